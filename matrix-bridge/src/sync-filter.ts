import { randomUUID } from 'node:crypto';
import { Filter } from 'matrix-js-sdk';

/**
 * A sync filter asking for up to `limit` events per room in every sync (matrix-js-sdk applies
 * `initialSyncLimit` to the first sync only, and the homeserver's default of 10 leaves gaps after
 * an outage). It also excludes an account-data type unique to this start, so Synapse's sync
 * response cache never hands a restarted bot its previous process's answer
 * (element-hq/synapse#15500). Why both: docs/decisions/0009.
 */
export function syncFilterWithTimelineLimit(userId: string, limit: number): Filter {
  const filter = new Filter(userId);
  filter.setTimelineLimit(limit);
  filter.getDefinition().account_data = { not_types: [`org.carehub.sync-start.${randomUUID()}`] };
  return filter;
}
