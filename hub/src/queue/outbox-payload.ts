import type { Job } from 'bullmq';
import type { Queryable } from '../store/database.js';
import type { OutboxJobData } from './queues.js';

/**
 * A job in Redis carries its outbox row's id only: payloads can hold what the bot is to say
 * (a notice naming the person, a meeting's title), and Redis holds no patient data. Before a
 * processor runs, the payload is read back from the row, the record, into the `data` of a copy
 * of the job the processor is given. A job
 * whose row is gone has nothing left to do.
 */
export function withOutboxPayload<J extends Job<OutboxJobData>>(db: Queryable, processor: (job: J) => Promise<string>) {
  return async (job: J): Promise<string> => {
    const { rows } = await db.query<{ payload: Record<string, unknown> }>('SELECT payload FROM outbox WHERE id = $1', [job.data.outboxId]);
    if (!rows[0]) return 'no such outbox row';
    // A copy of the job, not the job: BullMQ writes the job it holds back to Redis (on a retry, say), data and all.
    const withPayload = Object.assign(Object.create(Object.getPrototypeOf(job) as object) as J, job, { data: { ...rows[0].payload, outboxId: job.data.outboxId } });
    return processor(withPayload);
  };
}
