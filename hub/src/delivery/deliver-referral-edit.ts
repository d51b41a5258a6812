import { UnrecoverableError, type Job } from 'bullmq';
import type { ServiceRequest, Task } from 'fhir/r4.js';
import { EventType } from 'matrix-js-sdk';
import { renderReferralEdit, renderReferralMessage } from '../../../matrix-bridge/src/referral-message.js';
import type { OutboxJobData } from '../queue/queues.js';
import { findResource } from '../store/resource-store.js';
import type { MatrixDeliveryDeps } from './deliver-referral.js';
import { completeWithSentEvents, matrixTxnIdFor, referralRoomFor } from './referral-delivery-record.js';
import { REFERRAL_PAYLOAD_STRUCTURE, uploadReferralPayload } from './referral-fhir-payload.js';
import { buildReferralView } from './referral-view.js';

/**
 * Shows an edited ServiceRequest in the room as an edit (m.replace) of the referral message, so
 * the GP's client shows the current request (text and FHIR file) in place, marked as edited. Rendered from the
 * current version when the job runs: several quick edits end in the latest one either way.
 */
export function deliverReferralEdit({ db, rooms, logger }: MatrixDeliveryDeps) {
  return async (job: Job<OutboxJobData<'referral.edit'>>): Promise<string> => {
    const { outboxId, taskId } = job.data;
    const delivery = await referralRoomFor(db, outboxId, taskId);
    if (!delivery) return 'nothing to send';
    const task = await findResource<Task & { id: string }>(db, 'Task', taskId);
    const requestId = task?.focus?.reference?.replace(/^ServiceRequest\//, '');
    const request = requestId ? await findResource<ServiceRequest & { id: string }>(db, 'ServiceRequest', requestId) : undefined;
    if (!task || !request) throw new UnrecoverableError(`Task/${taskId} or its ServiceRequest is gone`);

    // The edit carries the current FHIR too: the referral's file is replaced with its text.
    const file = await uploadReferralPayload(db, rooms, task, request);
    const current = renderReferralMessage(await buildReferralView(db, task, request), file, REFERRAL_PAYLOAD_STRUCTURE);
    const edit = renderReferralEdit(delivery.messageEventId, current);
    const eventId = await rooms.sendEncrypted(delivery.roomId, EventType.RoomMessage, edit, matrixTxnIdFor(outboxId, 'edit'));
    await completeWithSentEvents(db, outboxId, [{ part: 'edit', roomId: delivery.roomId, eventId }]);
    logger.info({ outboxId, taskId, eventId }, 'referral edit shown in the room');
    return eventId;
  };
}
