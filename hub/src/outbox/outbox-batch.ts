import type { OutboxJobData } from '../queue/queues.js';
import { outboxJobId, type OutboxTopic } from '../store/outbox.js';

/** An outbox row picked for publishing. */
export interface PendingOutboxRow {
  id: string;
  topic: OutboxTopic;
  payload: Record<string, unknown>;
}

/** A BullMQ job as `Queue.addBulk` takes it: the row's id only (the worker reads the payload from the row: withOutboxPayload). */
export interface OutboxJob {
  name: OutboxTopic;
  data: Pick<OutboxJobData, 'outboxId'>;
  opts: { jobId: string };
}

/**
 * The jobs a batch of rows becomes, one group per topic (one `addBulk` per queue), the groups in
 * the order their first row came, the rows in each in batch order. The job carries the row's
 * id, never its payload (Redis holds no patient data), and its job id comes from the row id, so
 * publishing a row again is a no-op while its job still exists.
 */
export function outboxJobsByTopic(rows: readonly PendingOutboxRow[]): Map<OutboxTopic, OutboxJob[]> {
  const jobs = new Map<OutboxTopic, OutboxJob[]>();
  for (const row of rows) {
    const job: OutboxJob = { name: row.topic, data: { outboxId: row.id }, opts: { jobId: outboxJobId(row.id) } };
    const group = jobs.get(row.topic);
    if (group) group.push(job);
    else jobs.set(row.topic, [job]);
  }
  return jobs;
}

/** A full batch means there may be more rows waiting; a short one, that the outbox is drained. */
export function mayHaveMoreRows(published: number, batchSize: number): boolean {
  return published >= batchSize;
}
