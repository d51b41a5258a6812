import type { Queryable } from './database.js';

/** The kinds of work the outbox carries, with the payload each one needs. */
export interface OutboxTopics {
  /** Put a referral (a Task with its ServiceRequest) into the recipient's Matrix room. */
  'referral.deliver': { taskId: string };
}
export type OutboxTopic = keyof OutboxTopics;

export interface OutboxRow<K extends OutboxTopic = OutboxTopic> {
  id: string;
  topic: K;
  payload: OutboxTopics[K];
  completedAt: Date | null;
}

/** Adds a row; call it with the transaction that makes the change the row is about. */
export async function addOutboxRow<K extends OutboxTopic>(db: Queryable, topic: K, payload: OutboxTopics[K]): Promise<string> {
  const result = await db.query<{ id: string }>('INSERT INTO outbox (topic, payload) VALUES ($1, $2) RETURNING id', [topic, payload]);
  return result.rows[0]!.id;
}

/** Reads and locks a row, so one worker at a time finishes it. */
export async function lockOutboxRow(db: Queryable, id: string): Promise<OutboxRow | undefined> {
  const result = await db.query<{ id: string; topic: OutboxTopic; payload: OutboxTopics[OutboxTopic]; completed_at: Date | null }>(
    'SELECT id, topic, payload, completed_at FROM outbox WHERE id = $1 FOR UPDATE',
    [id],
  );
  const row = result.rows[0];
  return row && { id: row.id, topic: row.topic, payload: row.payload, completedAt: row.completed_at };
}

export async function markOutboxRowCompleted(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE outbox SET completed_at = now() WHERE id = $1', [id]);
}

/** BullMQ job ids may not be all digits nor contain ':' (BullMQ docs), hence the prefix. */
export function outboxJobId(outboxId: string): string {
  return `outbox-${outboxId}`;
}
