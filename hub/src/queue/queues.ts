import { Queue, type DefaultJobOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { CareHubConfig } from '../config/config-schema.js';
import type { OutboxTopic, OutboxTopics } from '../store/outbox.js';

/** Every job carries the outbox row it came from; the row, not Redis, is the record. */
export type OutboxJobData<K extends OutboxTopic = OutboxTopic> = OutboxTopics[K] & { outboxId: string };

/**
 * Which BullMQ queue carries each outbox topic. Everything the bot sends shares one queue (one
 * worker holds the bot's device); notifications to integrators have their own, so a slow
 * integrator endpoint never holds up a GP's referral.
 */
export const QUEUE_FOR_TOPIC: Record<OutboxTopic, string> = {
  'referral.deliver': 'matrix-delivery',
  'referral.edit': 'matrix-delivery',
  'referral.resend': 'matrix-delivery',
  'room.notice': 'matrix-delivery',
  'document.deliver': 'matrix-delivery',
  'case.settle': 'matrix-delivery',
  'communication.post': 'matrix-delivery',
  'case.export': 'matrix-delivery',
  'case.purge': 'matrix-delivery',
  'case.meeting': 'matrix-delivery',
  'case.guest-link': 'matrix-delivery',
  'case.guest-end': 'matrix-delivery',
  'subscription.notify': 'subscription-notification',
  'binary.reencrypt': 'document-maintenance',
};

/** The backoff strategy's name in job options; the workers define it (BullMQ custom backoff). */
export const CAPPED_EXPONENTIAL = 'capped-exponential';

/**
 * Exponential backoff with jitter, capped: after a long outage (the homeserver down for an
 * hour) the next attempt is at most `maxMs` away, so work resumes soon after the outage ends.
 */
export function cappedExponentialBackoff(baseMs: number, maxMs: number) {
  return (attemptsMade: number): number => {
    const delay = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
    return Math.round(delay * (0.8 + Math.random() * 0.4));
  };
}

/**
 * Retries, backoff and the dead-letter set are configuration, not code in each processor.
 * Failed jobs are kept (the failed set is the dead-letter queue an operator retries from).
 */
export function defaultJobOptions(config: CareHubConfig): DefaultJobOptions {
  return {
    attempts: config.delivery.attempts,
    backoff: { type: CAPPED_EXPONENTIAL },
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
  const byName = new Map<string, Queue>();
  const queues = new Map<OutboxTopic, Queue>();
  for (const [topic, name] of Object.entries(QUEUE_FOR_TOPIC) as Array<[OutboxTopic, string]>) {
    if (!byName.has(name)) byName.set(name, new Queue(name, { connection, prefix: config.redis.queuePrefix, defaultJobOptions: defaultJobOptions(config) }));
    queues.set(topic, byName.get(name)!);
  }
  return queues;
}
