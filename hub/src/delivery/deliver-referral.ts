import { UnrecoverableError, type Job } from 'bullmq';
import type { ServiceRequest, Task } from 'fhir/r4.js';
import { EventType } from 'matrix-js-sdk';
import type { Logger } from 'pino';
import { renderReferralMessage } from '../../../matrix-bridge/src/referral-message.js';
import type { ReferralRooms } from '../../../matrix-bridge/src/referral-rooms.js';
import { STATUS_REQUEST_KEY } from '../../../matrix-bridge/src/room-state.js';
import type { OutboxJobData } from '../queue/queues.js';
import { resolveMatrixRecipients } from '../routing/resolve-matrix-recipients.js';
import type { Database } from '../store/database.js';
import { isOutboxRowOpen, markOutboxRowCompleted } from '../store/outbox.js';
import { findResource, readResourceForUpdate, updateResource } from '../store/resource-store.js';
import { completeWithSentEvents, matrixTxnIdFor } from './referral-delivery-record.js';
import { REFERRAL_PAYLOAD_STRUCTURE, uploadReferralPayload } from './referral-fhir-payload.js';
import { buildReferralView } from './referral-view.js';
import { applyWriteEffects } from '../workflow/write-effects.js';
import { markTaskDelivered } from './task-delivery-status.js';

export interface MatrixDeliveryDeps {
  db: Database;
  rooms: ReferralRooms;
  logger: Logger;
}

/** How long the referral asks for a processing status (MSC4300 lifetime): a week, in ms. */
const STATUS_REQUEST_LIFETIME_MS = 7 * 24 * 3600 * 1000;

/** A referral cancelled (or voided) before it went out is never shown to anyone. */
const NOT_TO_DELIVER = new Set<Task['status']>(['cancelled', 'entered-in-error']);

/**
 * Delivers one referral: the sender/recipient pair's room, the referral's FHIR file captioned
 * with its readable text (one event, which starts the referral's thread), then (in one
 * transaction) the delivery record, the Task's new status and the outbox row's completion. Safe to run any
 * number of times for the same row: a finished row is skipped, the room is found by alias, and
 * the homeserver answers a repeated send (same transaction id) with the first event (a
 * retry uploads the FHIR again: the earlier upload stays behind as unreferenced ciphertext).
 */
export function deliverReferral({ db, rooms, logger }: MatrixDeliveryDeps) {
  return async (job: Job<OutboxJobData<'referral.deliver'>>): Promise<string> => {
    const { outboxId, taskId } = job.data;
    if (!(await isOutboxRowOpen(db, outboxId))) return 'already delivered';

    const task = await findResource<Task & { id: string }>(db, 'Task', taskId);
    const requestId = task?.focus?.reference?.replace(/^ServiceRequest\//, '');
    const request = requestId ? await findResource<ServiceRequest & { id: string }>(db, 'ServiceRequest', requestId) : undefined;
    if (!task || !request) throw new UnrecoverableError(`Task/${taskId} or its ServiceRequest is gone`);
    if (NOT_TO_DELIVER.has(task.status)) {
      await markOutboxRowCompleted(db, outboxId);
      logger.info({ outboxId, taskId, status: task.status }, 'referral not delivered: withdrawn before delivery');
      return 'withdrawn before delivery';
    }
    const recipients = await resolveMatrixRecipients(db, task.owner);
    if (recipients.length === 0) throw new UnrecoverableError(`Task/${taskId}: its owner no longer has a Matrix endpoint`);

    const requester = (task.requester ?? request.requester)?.reference;
    const view = await buildReferralView(db, task, request);
    // The FHIR goes up (encrypted, to the media repository) while the room is found; the
    // referral is then one event: that file, captioned with the readable text.
    const [roomId, file] = await Promise.all([
      rooms.ensureRoom({ kind: 'referrals', ...(requester ? { requester } : {}), owner: task.owner!.reference! }, recipients, requester ? view.requester : undefined),
      uploadReferralPayload(db, rooms, task, request),
    ]);
    const message = {
      ...renderReferralMessage(view, file, REFERRAL_PAYLOAD_STRUCTURE),
      [STATUS_REQUEST_KEY]: { from_device: rooms.deviceId, lifetime: STATUS_REQUEST_LIFETIME_MS },
    };
    const messageEventId = await rooms.sendEncrypted(roomId, EventType.RoomMessage, message, matrixTxnIdFor(outboxId));
    const sent = [{ part: 'message', roomId, eventId: messageEventId }];
    await completeWithSentEvents(db, outboxId, sent, async (client) => {
      const current = await readResourceForUpdate<Task & { id: string }>(client, 'Task', taskId);
      const { resource, previous } = await updateResource(client, { ...markTaskDelivered(current, roomId, messageEventId, new Date()), id: taskId });
      await applyWriteEffects(client, resource, 'Task', previous);
    });
    logger.info({ outboxId, taskId, roomId, eventId: messageEventId }, 'referral delivered');
    return messageEventId;
  };
}
