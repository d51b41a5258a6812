import type { PoolClient } from 'pg';
import { inTransaction, type Database, type DatabaseClient, type Queryable } from '../store/database.js';
import { isOutboxRowOpen, lockOutboxRow, markOutboxRowCompleted } from '../store/outbox.js';

/** The Matrix transaction id of an outbox row's event: the same on every retry, by design. */
export const matrixTxnIdFor = (outboxId: string, part = 'message') => (part === 'message' ? `carehub-outbox-${outboxId}` : `carehub-outbox-${outboxId}-${part}`);

export interface SentEvent {
  part: string;
  roomId: string;
  eventId: string;
}

/** Records what an outbox row put into Matrix; call it in the transaction that completes the row. */
export async function recordSentEvents(client: PoolClient | Queryable, outboxId: string, events: SentEvent[]): Promise<void> {
  for (const event of events) {
    // The Task the row is about, kept beside the event: a member's answer names an event, and this finds its referral.
    await client.query(
      `INSERT INTO matrix_deliveries (outbox_id, part, room_id, event_id, task_id)
       SELECT $1, $2, $3, $4, payload ->> 'taskId' FROM outbox WHERE id = $1
       ON CONFLICT DO NOTHING`,
      [
      outboxId,
      event.part,
      event.roomId,
      event.eventId,
      ],
    );
  }
}

export type ReferralDelivery =
  | { state: 'delivered'; roomId: string; messageEventId: string }
  /** Its delivery is queued or in flight: later messages about it must wait. */
  | { state: 'pending' }
  /** Never delivered (cancelled first, or not a referral): there is no room to talk in. */
  | { state: 'none' };

/**
 * One `referral.deliver` outbox row of a Task with, when it sent any, one event it sent (a row
 * without recorded events has the event's columns null).
 */
export interface ReferralDeliveryRow {
  completed: boolean;
  part: string | null;
  room_id: string | null;
  event_id: string | null;
}

/** Where a Task's referral stands in Matrix, from the outbox and what its row sent. */
export async function findReferralDelivery(db: Queryable, taskId: string): Promise<ReferralDelivery> {
  const { rows } = await db.query<ReferralDeliveryRow>(
    `SELECT o.completed_at IS NOT NULL AS completed, d.part, d.room_id, d.event_id
       FROM outbox o LEFT JOIN matrix_deliveries d ON d.outbox_id = o.id
      WHERE o.payload ->> 'taskId' = $1 AND o.topic = 'referral.deliver'`,
    [taskId],
  );
  return referralDeliveryOf(rows);
}

/**
 * A referral is pending while any of its delivery rows is open (queued or in flight), delivered
 * once a completed row recorded its message event, and none when it never had a row or its rows
 * completed without sending (cancelled first, say).
 */
export function referralDeliveryOf(rows: readonly ReferralDeliveryRow[]): ReferralDelivery {
  if (rows.length === 0) return { state: 'none' };
  if (rows.some((r) => !r.completed)) return { state: 'pending' };
  const message = rows.find((r) => r.part === 'message');
  if (!message) return { state: 'none' };
  return { state: 'delivered', roomId: message.room_id!, messageEventId: message.event_id! };
}

/** Thrown when a message must wait for its referral's delivery; the queue retries it with backoff. */
export class ReferralNotYetDelivered extends Error {
  constructor(taskId: string) {
    super(`the referral of Task/${taskId} is not delivered yet; this message waits for it`);
  }
}

export type DeliveredReferral = Extract<ReferralDelivery, { state: 'delivered' }>;

/**
 * For an outbox row whose message belongs in a referral's room (a notice, an edit, a document):
 * the delivered referral, or undefined when there is nothing to send (the row is done already, or
 * the referral never reached a room, which completes the row). While the referral itself is on
 * its way this throws, so the queue retries later and the room never shows a message before the
 * referral it is about.
 */
export async function referralRoomFor(db: Database, outboxId: string, taskId: string): Promise<DeliveredReferral | undefined> {
  if (!(await isOutboxRowOpen(db, outboxId))) return undefined;
  const delivery = await findReferralDelivery(db, taskId);
  if (delivery.state === 'pending') throw new ReferralNotYetDelivered(taskId);
  if (delivery.state === 'none') {
    await markOutboxRowCompleted(db, outboxId);
    return undefined;
  }
  return delivery;
}

/**
 * Records what an outbox row sent and completes the row, in one transaction with `alsoDo` (the
 * Task's delivery status, say). A row another worker finished meanwhile is left as it is.
 *
 * The commit does not wait for the disk (`synchronous_commit = off`, this transaction alone): a
 * commit a crash loses reopens the row, and its redo with the same Matrix transaction id gets the
 * homeserver's existing event back (docs/decisions/0008).
 */
export async function completeWithSentEvents(db: Database, outboxId: string, events: SentEvent[], alsoDo?: (client: DatabaseClient) => Promise<void>): Promise<void> {
  await inTransaction(db, async (client) => {
    await client.query('SET LOCAL synchronous_commit = off');
    const row = await lockOutboxRow(client, outboxId);
    if (!row || row.completedAt) return;
    await recordSentEvents(client, outboxId, events);
    await alsoDo?.(client);
    await markOutboxRowCompleted(client, outboxId);
  });
}
