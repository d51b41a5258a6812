import { randomUUID } from 'node:crypto';
import { Filter } from 'matrix-js-sdk';

/**
 * A sync filter asking for up to `limit` events per room in every sync. matrix-js-sdk applies
 * `initialSyncLimit` to the first sync only; later syncs take the homeserver's default of 10, so
 * after a client was cut off (a homeserver outage) a room with more new events than that comes
 * back `limited`: the latest events, and a gap before them that a client with no screen to
 * scroll never fills.
 *
 * Each filter also excludes an account-data type nobody uses, unique to this start. Synapse
 * answers an initial /sync identical to one of the last two minutes from its response cache
 * (`sync_response_cache_duration`; the SDK's cache-buster is not part of the key): a bot
 * restarted that soon got the previous process's answer, without the rooms joined since
 * (element-hq/synapse#15500). The filter is part of the key, so each start now gets a fresh one.
 */
export function syncFilterWithTimelineLimit(userId: string, limit: number): Filter {
  const filter = new Filter(userId);
  filter.setTimelineLimit(limit);
  filter.getDefinition().account_data = { not_types: [`org.carehub.sync-start.${randomUUID()}`] };
  return filter;
}
