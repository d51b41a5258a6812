import type { Job } from 'bullmq';
import { EventType } from 'matrix-js-sdk';
import { renderNotice, renderProcessingStatus } from '../../../matrix-bridge/src/room-notice.js';
import type { OutboxJobData } from '../queue/queues.js';
import type { MatrixDeliveryDeps } from './deliver-referral.js';
import { isOutboxRowOpen } from '../store/outbox.js';
import { completeWithSentEvents, matrixTxnIdFor, referralRoomFor, type SentEvent } from './referral-delivery-record.js';

/**
 * Puts a bot notice (a confirmation, a refusal, a cancellation) into the referral's thread, plus,
 * when the notice answers a recipient's event, the hub's processing status for that event.
 */
export function deliverRoomNotice({ db, rooms, logger }: MatrixDeliveryDeps) {
  return async (job: Job<OutboxJobData<'room.notice'>>): Promise<string> => {
    const { outboxId, notice } = job.data;
    const taskId = 'taskId' in job.data ? job.data.taskId : undefined;
    let roomId: string;
    let threadRoot: string | undefined;
    if (taskId) {
      const delivery = await referralRoomFor(db, outboxId, taskId);
      if (!delivery) return 'nothing to send';
      ({ roomId, messageEventId: threadRoot } = delivery);
    } else {
      if (!(await isOutboxRowOpen(db, outboxId))) return 'nothing to send';
      roomId = (job.data as { roomId: string }).roomId;
    }
    const sent: SentEvent[] = [];
    // A notice without text is a bare processing status (conversation needs no bot chatter).
    if (notice.text) {
      const content = renderNotice(notice.text, { threadRoot, inReplyTo: notice.inReplyTo });
      const eventId = await rooms.sendEncrypted(roomId, EventType.RoomMessage, content, matrixTxnIdFor(outboxId, 'notice'));
      sent.push({ part: 'notice', roomId, eventId });
    }
    if (notice.status && notice.inReplyTo) {
      const status = renderProcessingStatus(notice.inReplyTo, rooms.deviceId, notice.status, notice.status === 'error' ? notice.text : undefined);
      sent.push({ part: 'status', roomId, eventId: await rooms.sendEncrypted(roomId, status.type, status.content, matrixTxnIdFor(outboxId, 'status')) });
    }
    await completeWithSentEvents(db, outboxId, sent);
    logger.debug({ outboxId, taskId, roomId }, 'room notice sent');
    return sent.map((e) => e.eventId).join(' ');
  };
}
