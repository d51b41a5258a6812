import { UnrecoverableError, type Job } from 'bullmq';
import type { ServiceRequest, Task } from 'fhir/r4.js';
import type { Logger } from 'pino';
import { renderReferralMessage } from '../../../matrix-bridge/src/referral-message.js';
import type { ReferralRooms } from '../../../matrix-bridge/src/referral-rooms.js';
import type { OutboxJobData } from '../queue/queues.js';
import { resolveMatrixRecipients } from '../routing/resolve-matrix-recipients.js';
import { inTransaction, type Database } from '../store/database.js';
import { lockOutboxRow, markOutboxRowCompleted } from '../store/outbox.js';
import { findResource, readResourceForUpdate, updateResource } from '../store/resource-store.js';
import { buildReferralView } from './referral-view.js';
import { markTaskDelivered } from './task-delivery-status.js';

export interface DeliverReferralDeps {
  db: Database;
  rooms: ReferralRooms;
  logger: Logger;
}

/** The Matrix transaction id of an outbox row's message: the same on every retry, by design. */
export const matrixTxnIdFor = (outboxId: string) => `carehub-outbox-${outboxId}`;

/**
 * Delivers one referral: room, message, then (in one transaction) the delivery record, the
 * Task's new status and the outbox row's completion. Safe to run any number of times for the
 * same row: a finished row is skipped, the room is found by alias, and the homeserver answers a
 * repeated send with the first event.
 */
export function deliverReferral({ db, rooms, logger }: DeliverReferralDeps) {
  return async (job: Job<OutboxJobData<'referral.deliver'>>): Promise<string> => {
    const { outboxId, taskId } = job.data;
    const open = await db.query('SELECT 1 FROM outbox WHERE id = $1 AND completed_at IS NULL', [outboxId]);
    if (open.rowCount === 0) return 'already delivered';

    const task = await findResource<Task & { id: string }>(db, 'Task', taskId);
    const requestId = task?.focus?.reference?.replace(/^ServiceRequest\//, '');
    const request = requestId ? await findResource<ServiceRequest & { id: string }>(db, 'ServiceRequest', requestId) : undefined;
    if (!task || !request) throw new UnrecoverableError(`Task/${taskId} or its ServiceRequest is gone`);
    const recipients = await resolveMatrixRecipients(db, task.owner);
    if (recipients.length === 0) throw new UnrecoverableError(`Task/${taskId}: its owner no longer has a Matrix endpoint`);

    const roomId = await rooms.ensureRoom({ kind: 'referral', task: `Task/${taskId}`, serviceRequest: `ServiceRequest/${request.id}` }, recipients);
    const eventId = await rooms.sendReferral(roomId, renderReferralMessage(await buildReferralView(db, task, request)), matrixTxnIdFor(outboxId));

    await inTransaction(db, async (client) => {
      const row = await lockOutboxRow(client, outboxId);
      if (!row || row.completedAt) return;
      await client.query('INSERT INTO matrix_deliveries (outbox_id, room_id, event_id) VALUES ($1, $2, $3)', [outboxId, roomId, eventId]);
      const current = await readResourceForUpdate<Task & { id: string }>(client, 'Task', taskId);
      await updateResource(client, { ...markTaskDelivered(current, roomId, eventId, new Date()), id: taskId });
      await markOutboxRowCompleted(client, outboxId);
    });
    logger.info({ outboxId, taskId, roomId, eventId }, 'referral delivered');
    return eventId;
  };
}
