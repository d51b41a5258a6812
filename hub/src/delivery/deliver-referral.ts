import { UnrecoverableError, type Job } from 'bullmq';
import type { Task } from 'fhir/r4.js';
import type { Logger } from 'pino';
import { type ReferralRooms, type RoomSender, renderUnreadableNotice, STATUS_REQUEST_KEY } from '@carehub/matrix-bridge';
import type { OutboxJobData } from '../queue/queues.js';
import { resolveMatrixRecipients } from '../routing/resolve-matrix-recipients.js';
import type { Database } from '../store/database.js';
import { addOutboxRow, isOutboxRowOpen, markOutboxRowCompleted } from '../store/outbox.js';
import { readResourceForUpdate } from '../store/resource-store.js';
import { updateResource } from '../fhir/resource-writer.js';
import { completeWithSentEvents, matrixTxnIdFor } from './referral-delivery-record.js';
import { renderReferralFor } from './referral-fhir-payload.js';
import { findReferral } from './referral-view.js';
import { addWaitingReaders, recordReach, usersWithoutReadableDevice } from './referral-readers.js';
import { sendReferralEvents } from './send-referral.js';
import type { WriteContext } from '../workflow/write-context.js';
import { markTaskDelivered } from './task-delivery-status.js';

export interface MatrixDeliveryDeps {
  db: Database;
  /** The document store and the rest of what the hub's own writes need (startHub). */
  writes: WriteContext;
  /** Settles the pair's room (creates it, sets its members). */
  rooms: ReferralRooms;
  /** Sends and uploads into rooms, and tells which devices got an event's key. */
  sender: RoomSender;
  logger: Logger;
}

/** How long the referral asks for a processing status (MSC4300 lifetime): a week, in ms. */
const STATUS_REQUEST_LIFETIME_MS = 7 * 24 * 3600 * 1000;

/** A referral cancelled (or voided) before it went out is never shown to anyone. */
const NOT_TO_DELIVER = new Set<Task['status']>(['cancelled', 'entered-in-error']);

/**
 * Delivers one referral: the sender/recipient pair's room, the referral as one text event with
 * its FHIR inline (which starts the referral's thread), then (in one transaction) the delivery
 * record, which recipient devices got its key, the Task's new status and the outbox row's
 * completion. A recipient none of whose devices could read it is told so in the room (a notice
 * without patient data that every device reads) and noted, so the referral is sent again once
 * a device of theirs can read it. Safe to run any number of times for the same row: a finished
 * row is skipped, the room is found by alias, and the homeserver answers a repeated send (same
 * transaction id) with the first event.
 */
export function deliverReferral({ db, writes, rooms, sender, logger }: MatrixDeliveryDeps) {
  return async (job: Job<OutboxJobData<'referral.deliver'>>): Promise<string> => {
    const { outboxId, taskId } = job.data;
    if (!(await isOutboxRowOpen(db, outboxId))) return 'already delivered';

    const referral = await findReferral(db, taskId);
    if (!referral) throw new UnrecoverableError(`Task/${taskId} or its ServiceRequest is gone`);
    const { task, request } = referral;
    if (NOT_TO_DELIVER.has(task.status)) {
      await markOutboxRowCompleted(db, outboxId);
      logger.info({ outboxId, taskId, status: task.status }, 'referral not delivered: withdrawn before delivery');
      return 'withdrawn before delivery';
    }
    const recipients = await resolveMatrixRecipients(db, task.owner);
    if (recipients.length === 0) throw new UnrecoverableError(`Task/${taskId}: its owner no longer has a Matrix endpoint`);

    const requester = (task.requester ?? request.requester)?.reference;
    const rendered = await renderReferralFor(db, task, request);
    const roomId = await rooms.ensureRoom({ kind: 'referrals', ...(requester ? { requester } : {}), owner: task.owner!.reference! }, recipients, requester ? rendered.view.requester : undefined);
    const message = { ...rendered.content, [STATUS_REQUEST_KEY]: { from_device: sender.deviceId, lifetime: STATUS_REQUEST_LIFETIME_MS } };
    const sent = await sendReferralEvents(sender, { roomId, outboxId, part: 'message' }, rendered, message);
    const messageEventId = sent[0]!.eventId;
    const reach = await sender.reachOf(roomId, matrixTxnIdFor(outboxId), recipients);
    const waiting = usersWithoutReadableDevice(recipients, reach);
    await completeWithSentEvents(db, outboxId, sent, async (client) => {
      await recordReach(client, taskId, messageEventId, reach);
      if (waiting.length > 0) {
        await addWaitingReaders(client, taskId, roomId, waiting);
        await addOutboxRow(client, 'room.notice', { roomId, notice: { text: renderUnreadableNotice(waiting).body, everyDevice: true } });
      }
      const current = await readResourceForUpdate<Task & { id: string }>(client, 'Task', taskId);
      const readable = waiting.length < recipients.length;
      await updateResource(writes, client, { ...markTaskDelivered(current, roomId, messageEventId, new Date(), readable), id: taskId });
    });
    const devices = { readable: reach.filter((d) => d.readable).length, withheld: reach.filter((d) => !d.readable).length };
    logger.info({ outboxId, taskId, roomId, eventId: messageEventId, devices, waiting }, waiting.length < recipients.length ? 'referral delivered' : 'referral delivered, not readable by any recipient device yet');
    return messageEventId;
  };
}
