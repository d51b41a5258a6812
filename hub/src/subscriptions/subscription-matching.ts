import { organizationMayRead } from '../access/access-policy.js';
import { ownerOf } from '../auth/ownership.js';
import type { Resource, Subscription } from 'fhir/r4.js';
import { findMatches } from '../search/run-search.js';
import type { Queryable } from '../store/database.js';
import { addOutboxRow } from '../store/outbox.js';
import { criteriaSearch, LIVE_SUBSCRIPTION_STATUSES, SUBSCRIBABLE_TYPES } from './subscription-criteria.js';

/**
 * Runs in the write's transaction after a resource version is stored (its search index is
 * written by then): each live Subscription whose criteria match this version gets an outbox row,
 * committed with the change, so a notification is never lost nor sent for a write that rolled back.
 */
export async function queueSubscriptionNotifications(db: Queryable, stored: Resource & { id: string }): Promise<void> {
  if (!SUBSCRIBABLE_TYPES.has(stored.resourceType)) return;
  const { rows } = await db.query<{ content: Subscription & { id: string } }>(
    `SELECT content FROM resources
      WHERE resource_type = 'Subscription' AND NOT deleted
        AND content ->> 'status' = ANY($1::text[])
        AND (content ->> 'criteria' = $2 OR content ->> 'criteria' LIKE $3)`,
    [LIVE_SUBSCRIPTION_STATUSES, stored.resourceType, `${stored.resourceType}?%`],
  );
  const now = Date.now();
  for (const { content: subscription } of rows) {
    if (subscription.end && Date.parse(subscription.end) < now) continue;
    // A subscriber hears only of what its organisation may read (checked again when it is sent).
    const subscriber = ownerOf(subscription);
    if (subscriber && !(await organizationMayRead(db, subscriber, stored.resourceType, stored.id))) continue;
    const matches = await findMatches(db, criteriaSearch(subscription.criteria, stored.id), 1, undefined);
    if (matches.length === 0) continue;
    await addOutboxRow(db, 'subscription.notify', {
      subscriptionId: subscription.id,
      resourceType: stored.resourceType,
      resourceId: stored.id,
      versionId: stored.meta!.versionId!,
    });
  }
}
