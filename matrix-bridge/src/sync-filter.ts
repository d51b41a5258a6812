import { Filter } from 'matrix-js-sdk';

/**
 * A sync filter asking for up to `limit` events per room in every sync. matrix-js-sdk applies
 * `initialSyncLimit` to the first sync only; later syncs take the homeserver's default of 10, so
 * after a client was cut off (a homeserver outage) a room with more new events than that comes
 * back `limited`: the latest events, and a gap before them that a client with no screen to
 * scroll never fills.
 */
export function syncFilterWithTimelineLimit(userId: string, limit: number): Filter {
  const filter = new Filter(userId);
  filter.setTimelineLimit(limit);
  return filter;
}
