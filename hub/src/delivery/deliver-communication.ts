import type { Job } from 'bullmq';
import type { Communication } from 'fhir/r4.js';
import { EventType } from 'matrix-js-sdk';
import { renderCommunication } from '@carehub/matrix-bridge';
import { readCaseRoom } from '../cases/case-room-record.js';
import { directoryName } from '../routing/directory-name.js';
import type { OutboxJobData } from '../queue/queues.js';
import type { Queryable } from '../store/database.js';
import { isOutboxRowOpen, markOutboxRowCompleted } from '../store/outbox.js';
import { findResource } from '../store/resource-store.js';
import type { MatrixDeliveryDeps } from './deliver-referral.js';
import { completeWithSentEvents, matrixTxnIdFor, referralRoomFor } from './referral-delivery-record.js';

/** A case's room is made by its first `case.settle`; a Communication posted right after the CareTeam waits for it. */
export class CaseRoomNotYetMade extends Error {}

/** Whose words a Communication carries, as members know them: its sender's organisation, or the practitioner and theirs. */
async function senderName(db: Queryable, communication: Communication): Promise<string> {
  return (await directoryName(db, communication.sender)) ?? communication.sender?.display ?? 'An integrator';
}

const textOf = (communication: Communication) =>
  (communication.payload ?? []).map((part) => part.contentString ?? (part.contentAttachment ? `(attachment: ${part.contentAttachment.title ?? 'untitled'})` : `(${part.contentReference?.reference ?? 'content'})`)).join('\n');

/**
 * Says an integrator's Communication in the room of the case it was sent to (`careTeamId`), or
 * in the thread of the referral it is about (`taskId`), as the sending organisation's message.
 * Sent once: the transaction id is the outbox row's, and the row completes with the event.
 */
export function deliverCommunication({ db, sender, logger }: MatrixDeliveryDeps) {
  return async (job: Job<OutboxJobData<'communication.post'>>): Promise<string> => {
    const { outboxId, communicationId } = job.data;
    if (!(await isOutboxRowOpen(db, outboxId))) return 'already said';
    const communication = await findResource<Communication & { id: string }>(db, 'Communication', communicationId);
    if (!communication) {
      await markOutboxRowCompleted(db, outboxId);
      return 'the Communication is gone';
    }
    let roomId: string;
    let threadRoot: string | undefined;
    if ('taskId' in job.data) {
      const delivery = await referralRoomFor(db, outboxId, job.data.taskId);
      if (!delivery) return 'no referral room';
      ({ roomId, messageEventId: threadRoot } = delivery);
    } else {
      const record = await readCaseRoom(db, job.data.careTeamId);
      if (!record.roomId) throw new CaseRoomNotYetMade(`CareTeam/${job.data.careTeamId} has no room yet`);
      roomId = record.roomId;
    }
    const content = renderCommunication(await senderName(db, communication), textOf(communication), `Communication/${communicationId}`, threadRoot);
    const eventId = await sender.sendEncrypted(roomId, EventType.RoomMessage, content, matrixTxnIdFor(outboxId));
    await completeWithSentEvents(db, outboxId, [{ part: 'communication', roomId, eventId }]);
    logger.info({ outboxId, communicationId, roomId, eventId }, 'communication said in its room');
    return eventId;
  };
}
