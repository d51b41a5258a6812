import { Queue, type DefaultJobOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { CareHubConfig } from '../config/config-schema.js';
import type { OutboxTopic, OutboxTopics } from '../store/outbox.js';

/** Every job carries the outbox row it came from; the row, not Redis, is the record. */
export type OutboxJobData<K extends OutboxTopic = OutboxTopic> = OutboxTopics[K] & { outboxId: string };

/** Which BullMQ queue carries each outbox topic. */
export const QUEUE_FOR_TOPIC: Record<OutboxTopic, string> = {
  'referral.deliver': 'referral-delivery',
};

/**
 * Retries, backoff and the dead-letter set are configuration, not code in each processor.
 * Failed jobs are kept (the failed set is the dead-letter queue an operator retries from).
 */
export function defaultJobOptions(config: CareHubConfig): DefaultJobOptions {
  return {
    attempts: config.delivery.attempts,
    backoff: { type: 'exponential', delay: config.delivery.backoffMs, jitter: 0.2 },
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: false,
  };
}

/** A connection for workers: blocking commands need unlimited retries (BullMQ docs). */
export function workerConnection(config: CareHubConfig): Redis {
  return new Redis(config.redis.url, { maxRetriesPerRequest: null });
}

/** A connection for producers: fail fast while Redis is away; the outbox keeps the work. */
export function producerConnection(config: CareHubConfig): Redis {
  return new Redis(config.redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
}

export function createQueues(config: CareHubConfig, connection: Redis): Map<OutboxTopic, Queue> {
  const queues = new Map<OutboxTopic, Queue>();
  for (const [topic, name] of Object.entries(QUEUE_FOR_TOPIC) as Array<[OutboxTopic, string]>) {
    queues.set(topic, new Queue(name, { connection, prefix: config.redis.queuePrefix, defaultJobOptions: defaultJobOptions(config) }));
  }
  return queues;
}
