import type { PoolClient } from 'pg';
import type { Queryable } from '../store/database.js';

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
    await client.query('INSERT INTO matrix_deliveries (outbox_id, part, room_id, event_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
      outboxId,
      event.part,
      event.roomId,
      event.eventId,
    ]);
  }
}

export type ReferralDelivery =
  | { state: 'delivered'; roomId: string; messageEventId: string; fhirFileEventId: string | undefined }
  /** Its delivery is queued or in flight: later messages about it must wait. */
  | { state: 'pending' }
  /** Never delivered (cancelled first, or not a referral): there is no room to talk in. */
  | { state: 'none' };

/** Where a Task's referral stands in Matrix, from the outbox and what its row sent. */
export async function findReferralDelivery(db: Queryable, taskId: string): Promise<ReferralDelivery> {
  const { rows } = await db.query<{ completed: boolean; part: string | null; room_id: string | null; event_id: string | null }>(
    `SELECT o.completed_at IS NOT NULL AS completed, d.part, d.room_id, d.event_id
       FROM outbox o LEFT JOIN matrix_deliveries d ON d.outbox_id = o.id
      WHERE o.payload ->> 'taskId' = $1 AND o.topic = 'referral.deliver'`,
    [taskId],
  );
  if (rows.length === 0) return { state: 'none' };
  if (rows.some((r) => !r.completed)) return { state: 'pending' };
  const message = rows.find((r) => r.part === 'message');
  if (!message) return { state: 'none' };
  return {
    state: 'delivered',
    roomId: message.room_id!,
    messageEventId: message.event_id!,
    fhirFileEventId: rows.find((r) => r.part === 'fhir')?.event_id ?? undefined,
  };
}

/** Thrown when a message must wait for its referral's delivery; the queue retries it with backoff. */
export class ReferralNotYetDelivered extends Error {
  constructor(taskId: string) {
    super(`the referral of Task/${taskId} is not delivered yet; this message waits for it`);
  }
}
