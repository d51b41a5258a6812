import type { Job } from 'bullmq';
import { EventType } from 'matrix-js-sdk';
import { renderNotice, renderProcessingStatus } from '../../../matrix-bridge/src/room-notice.js';
import type { OutboxJobData } from '../queue/queues.js';
import { inTransaction } from '../store/database.js';
import { isOutboxRowOpen, lockOutboxRow, markOutboxRowCompleted } from '../store/outbox.js';
import type { MatrixDeliveryDeps } from './deliver-referral.js';
import { findReferralDelivery, matrixTxnIdFor, recordSentEvents, ReferralNotYetDelivered, type SentEvent } from './referral-delivery-record.js';

/**
 * Puts a bot notice (a confirmation, a refusal, a cancellation) into the referral's room, plus,
 * when the notice answers a recipient's event, the hub's processing status for that event. Waits
 * (by failing into a retry) while the referral itself is still on its way, so the room never shows
 * a notice before the referral it is about.
 */
export function deliverRoomNotice({ db, rooms, logger }: MatrixDeliveryDeps) {
  return async (job: Job<OutboxJobData<'room.notice'>>): Promise<string> => {
    const { outboxId, taskId, notice } = job.data;
    if (!(await isOutboxRowOpen(db, outboxId))) return 'already sent';
    const delivery = await findReferralDelivery(db, taskId);
    if (delivery.state === 'pending') throw new ReferralNotYetDelivered(taskId);
    if (delivery.state === 'none') {
      await markOutboxRowCompleted(db, outboxId);
      return 'no room: the referral was never delivered';
    }
    const { roomId } = delivery;
    const sent: SentEvent[] = [];
    // A notice without text is a bare processing status (conversation needs no bot chatter).
    if (notice.text) {
      const eventId = await rooms.sendEncrypted(roomId, EventType.RoomMessage, renderNotice(notice.text, notice.inReplyTo), matrixTxnIdFor(outboxId, 'notice'));
      sent.push({ part: 'notice', roomId, eventId });
    }
    if (notice.status && notice.inReplyTo) {
      const status = renderProcessingStatus(notice.inReplyTo, rooms.deviceId, notice.status, notice.status === 'error' ? notice.text : undefined);
      sent.push({ part: 'status', roomId, eventId: await rooms.sendEncrypted(roomId, status.type, status.content, matrixTxnIdFor(outboxId, 'status')) });
    }
    await inTransaction(db, async (client) => {
      const row = await lockOutboxRow(client, outboxId);
      if (!row || row.completedAt) return;
      await recordSentEvents(client, outboxId, sent);
      await markOutboxRowCompleted(client, outboxId);
    });
    logger.debug({ outboxId, taskId, roomId }, 'room notice sent');
    return sent.map((e) => e.eventId).join(' ');
  };
}
