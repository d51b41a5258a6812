import { organizationMayRead } from '../access/access-policy.js';
import { ownerOf } from '../auth/ownership.js';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Resource, Subscription } from 'fhir/r4.js';
import type { Logger } from 'pino';
import type { OutboxJobData } from '../queue/queues.js';
import { inTransaction, type Database } from '../store/database.js';
import { isOutboxRowOpen, markOutboxRowCompleted } from '../store/outbox.js';
import { findResource, readResourceForUpdate, readResourceVersion } from '../store/resource-store.js';
import { updateResource } from '../fhir/resource-writer.js';
import type { WriteContext } from '../workflow/write-context.js';
import { LIVE_SUBSCRIPTION_STATUSES } from './subscription-criteria.js';
import type { AllowedHost } from './subscription-endpoint.js';
import { NotificationFailure, resolveWithSystemDns, sendRestHook, type ResolveHost, type RestHookRequest } from './notification-transport.js';

export interface NotificationDeps {
  db: Database;
  /** What the hub's own writes need (startHub): the Subscription set to "error" is written like any. */
  writes: WriteContext;
  logger: Logger;
  /** Per-request timeout: an endpoint that hangs is retried like one that fails. */
  timeoutMs: number;
  /** `subscriptions.allowedHosts`, parsed: endpoints the hub calls although not https or not public. */
  allowedHosts: readonly AllowedHost[];
  /** DNS for endpoint host names (the system's unless a test passes its own). */
  resolveHost?: ResolveHost;
}

/** Subscription.channel.header entries are "Name: value" lines (FHIR R4). */
function channelHeaders(subscription: Subscription): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of subscription.channel.header ?? []) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * One rest-hook notification (FHIR R4 subscription.html#2.46.7.1): without a payload, a POST with
 * no body to the endpoint; with a payload, the endpoint is a FHIR base and the resource version
 * that matched is PUT to [endpoint]/[type]/[id], to the checked addresses of a permitted endpoint
 * only (notification-transport.ts). Any non-2xx answer, or none in time, is retried by the queue
 * with backoff, and later notifications to the same Subscription wait; when the last attempt
 * fails the Subscription is set to "error" with a reason that tells no network details, and the
 * job stays in the failed set for an operator to retry.
 */
export function deliverSubscriptionNotification({ db, writes, logger, timeoutMs, allowedHosts, resolveHost = resolveWithSystemDns }: NotificationDeps) {
  return async (job: Job<OutboxJobData<'subscription.notify'>>, token?: string): Promise<string> => {
    const { outboxId, subscriptionId, resourceType, resourceId, versionId } = job.data;
    if (!(await isOutboxRowOpen(db, outboxId))) return 'already notified';
    // In order per Subscription: a receiver sees requested → received → accepted, never the
    // reverse, even when an earlier notification is being retried. Waiting is not an attempt.
    if (await hasEarlierOpenNotification(db, subscriptionId, outboxId)) {
      await job.moveToDelayed(Date.now() + ORDERING_WAIT_MS, token);
      throw new DelayedError();
    }
    const subscription = await findResource<Subscription & { id: string }>(db, 'Subscription', subscriptionId);
    if (!subscription || !LIVE_SUBSCRIPTION_STATUSES.includes(subscription.status)) {
      await markOutboxRowCompleted(db, outboxId);
      return 'subscription no longer active';
    }
    // The access policy at the time of this notification, not of the write: a subscriber whose
    // organisation may not read the resource (now) hears nothing of it.
    const subscriber = ownerOf(subscription);
    if (subscriber && !(await organizationMayRead(db, subscriber, resourceType, resourceId))) {
      await markOutboxRowCompleted(db, outboxId);
      return 'not readable by the subscriber';
    }
    const endpoint = subscription.channel.endpoint!;
    const headers: Record<string, string> = { ...channelHeaders(subscription) };
    let request: RestHookRequest;
    if (subscription.channel.payload) {
      const resource = await readResourceVersion<Resource>(db, resourceType, resourceId, versionId);
      headers['content-type'] = 'application/fhir+json';
      request = { url: `${endpoint.replace(/\/$/, '')}/${resourceType}/${resourceId}`, method: 'PUT', headers, body: JSON.stringify(resource) };
    } else {
      request = { url: endpoint, method: 'POST', headers };
    }
    try {
      await sendRestHook(request, { timeoutMs, allowedHosts, resolveHost });
    } catch (error) {
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      // The subscriber learns the HTTP status or "unreachable", nothing of the hub's network;
      // the details are for the operator, in the log.
      const reason = error instanceof NotificationFailure ? error.subscriberReason : 'delivery failed: endpoint unreachable';
      if (lastAttempt) await markSubscriptionInError(writes, db, subscriptionId, reason);
      logger.warn({ subscriptionId, outboxId, attempt: job.attemptsMade + 1, err: (error as Error).message }, 'subscription notification failed');
      throw lastAttempt ? new UnrecoverableError((error as Error).message) : error;
    }
    await markOutboxRowCompleted(db, outboxId);
    return `${request.method} ${request.url}`;
  };
}

const ORDERING_WAIT_MS = 250;

async function hasEarlierOpenNotification(db: Database, subscriptionId: string, outboxId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `SELECT 1 FROM outbox WHERE completed_at IS NULL AND payload ->> 'subscriptionId' = $1 AND id < $2 AND topic = 'subscription.notify' LIMIT 1`,
    [subscriptionId, outboxId],
  );
  return (rowCount ?? 0) > 0;
}

async function markSubscriptionInError(writes: WriteContext, db: Database, subscriptionId: string, reason: string): Promise<void> {
  await inTransaction(db, async (client) => {
    const current = await readResourceForUpdate<Subscription & { id: string }>(client, 'Subscription', subscriptionId);
    await updateResource(writes, client, { ...current, status: 'error', error: reason });
  });
}
