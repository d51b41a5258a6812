import type { Job } from 'bullmq';
import { EventType } from 'matrix-js-sdk';
import { BOT_MESSAGES, referralLabel, renderNotice, renderProcessingStatus } from '@carehub/matrix-bridge';
import type { OutboxJobData } from '../queue/queues.js';
import type { Queryable } from '../store/database.js';
import type { MatrixDeliveryDeps } from './deliver-referral.js';
import { isOutboxRowOpen } from '../store/outbox.js';
import { completeWithSentEvents, matrixTxnIdFor, referralRoomFor, type SentEvent } from './referral-delivery-record.js';
import { buildReferralView, findPatientOf, findReferral } from './referral-view.js';

/** "Referral: <patient> – <request>", so a notice says which referral it is about (in its encrypted text). */
async function referralLine(db: Queryable, taskId: string): Promise<string | undefined> {
  const referral = await findReferral(db, taskId);
  if (!referral) return undefined;
  const { task, request } = referral;
  return BOT_MESSAGES.referral.named(referralLabel(await buildReferralView(db, task, request, await findPatientOf(db, request))));
}

/** How long a notice waits for the room's earlier ones before it goes anyway (one that keeps failing must not hold the room up). */
const EARLIER_NOTICES_WAIT_MS = 10_000;

/**
 * Waits (briefly) until the room's earlier notices are sent. Delivery workers run side by side,
 * so the bot's two answers to one message ("Consent recorded", then "Case … is open") could
 * otherwise reach the member in either order; the outbox's ids say which came first.
 */
async function afterEarlierNotices(db: Queryable, outboxId: string, roomId: string): Promise<void> {
  const until = Date.now() + EARLIER_NOTICES_WAIT_MS;
  while (Date.now() < until) {
    const { rowCount } = await db.query(
      `SELECT 1 FROM outbox WHERE completed_at IS NULL AND id < $1 AND topic = 'room.notice' AND payload ->> 'roomId' = $2 LIMIT 1`,
      [outboxId, roomId],
    );
    if (!rowCount) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Puts a bot notice (a confirmation, a refusal, a cancellation) into the referral's thread,
 * naming the referral and replying to the recipient's message (or, for a reaction, to the
 * referral), plus, when the notice answers a recipient's event, the hub's processing status for
 * that event. A notice for every device (no patient data, no referral named) goes to the room.
 */
export function deliverRoomNotice({ db, sender, logger }: MatrixDeliveryDeps) {
  return async (job: Job<OutboxJobData<'room.notice'>>): Promise<string> => {
    const { outboxId, notice } = job.data;
    const taskId = 'taskId' in job.data ? job.data.taskId : undefined;
    let roomId: string;
    let threadRoot: string | undefined;
    let text = notice.text;
    if (taskId) {
      const delivery = await referralRoomFor(db, outboxId, taskId);
      if (!delivery) return 'nothing to send';
      ({ roomId, messageEventId: threadRoot } = delivery);
      const line = text && !notice.everyDevice ? await referralLine(db, taskId) : undefined;
      if (line) text = `${text}\n${line}`;
    } else {
      if (!(await isOutboxRowOpen(db, outboxId))) return 'nothing to send';
      roomId = (job.data as { roomId: string }).roomId;
      await afterEarlierNotices(db, outboxId, roomId);
    }
    const sent: SentEvent[] = [];
    // A notice without text is a bare processing status (conversation needs no bot chatter).
    if (text) {
      const inReplyTo = notice.replyTo === 'referral' ? threadRoot : notice.inReplyTo;
      const content = renderNotice(text, { threadRoot, inReplyTo });
      const audience = notice.everyDevice ? { kind: 'every-device' as const } : undefined;
      const eventId = await sender.sendEncrypted(roomId, EventType.RoomMessage, content, matrixTxnIdFor(outboxId, 'notice'), audience);
      sent.push({ part: 'notice', roomId, eventId });
    }
    if (notice.status && notice.inReplyTo) {
      const status = renderProcessingStatus(notice.inReplyTo, sender.deviceId, notice.status, notice.status === 'error' ? notice.text : undefined);
      sent.push({ part: 'status', roomId, eventId: await sender.sendEncrypted(roomId, status.type, status.content, matrixTxnIdFor(outboxId, 'status')) });
    }
    await completeWithSentEvents(db, outboxId, sent);
    logger.debug({ outboxId, taskId, roomId }, 'room notice sent');
    return sent.map((e) => e.eventId).join(' ');
  };
}
