import type { Subscription } from 'fhir/r4.js';
import { unprocessable } from '../fhir/operation-outcome.js';
import { parseSearchRequest, type SearchRequest } from '../search/search-request.js';
import { endpointRefusal, parseAllowedHosts, type AllowedHost } from './subscription-endpoint.js';

/**
 * The resource types a Subscription may watch: what an integrator's system follows of its
 * referrals and the answers to them.
 */
export const SUBSCRIBABLE_TYPES: ReadonlySet<string> = new Set(['Task', 'ServiceRequest', 'Communication', 'DocumentReference']);

/** Subscription.criteria ("Task?owner=PractitionerRole/1&status=accepted") as a search for one resource. */
export function criteriaSearch(criteria: string, resourceId?: string): SearchRequest {
  const [type, query = ''] = criteria.split('?', 2) as [string, string?];
  const parameters = [...new URLSearchParams(query)];
  return parseSearchRequest(type, resourceId ? [...parameters, ['_id', resourceId]] : parameters);
}

/** A Subscription refused (422), at one of its elements. */
const refusedAt = (message: string, path: string) => unprocessable(message, [`Subscription.${path}`]);

/**
 * What CareHub can honour (FHIR R4 subscription.html): rest-hook channels to an https endpoint
 * on a public address, or to a host the operator listed (subscription-endpoint.ts); criteria
 * that are a search on a watched type with parameters the hub knows; and no payload or a FHIR
 * JSON one. Anything else is refused (422) rather than silently never fired.
 */
export function assertSupportedSubscription(subscription: Subscription, allowedHosts: readonly AllowedHost[]): void {
  if (subscription.channel.type !== 'rest-hook') throw refusedAt(`channel.type ${subscription.channel.type} is not supported; use rest-hook`, 'channel.type');
  let endpoint: URL;
  try {
    endpoint = new URL(subscription.channel.endpoint ?? '');
  } catch {
    throw refusedAt('channel.endpoint must be an absolute http(s) URL', 'channel.endpoint');
  }
  const refusal = endpointRefusal(endpoint, allowedHosts);
  if (refusal) throw refusedAt(refusal, 'channel.endpoint');
  const payload = subscription.channel.payload;
  if (payload && !['application/fhir+json', 'application/json'].includes(payload)) {
    throw refusedAt(`channel.payload ${payload} is not supported; use application/fhir+json or leave it out`, 'channel.payload');
  }
  const type = subscription.criteria.split('?', 1)[0]!;
  if (!SUBSCRIBABLE_TYPES.has(type)) {
    throw refusedAt(`criteria must watch one of ${[...SUBSCRIBABLE_TYPES].join(', ')}`, 'criteria');
  }
  const search = criteriaSearch(subscription.criteria);
  if (search.unknown.length > 0) throw refusedAt(`criteria uses search parameters the hub does not know: ${search.unknown.join(', ')}`, 'criteria');
}

/**
 * Which rest-hook endpoints a Subscription may name: https on a public address, or a host the
 * operator listed in `subscriptions.allowedHosts` (none, the safe default). Made once at wiring
 * (startHub) and carried by every writer (WriteContext) to the check of a stored Subscription.
 */
export class SubscriptionEndpointPolicy {
  readonly allowedHosts: readonly AllowedHost[];

  constructor(allowedHosts: readonly string[]) {
    this.allowedHosts = parseAllowedHosts(allowedHosts);
  }

  /** assertSupportedSubscription with this policy's hosts. */
  assertSupported(subscription: Subscription): void {
    assertSupportedSubscription(subscription, this.allowedHosts);
  }
}

/** Subscriptions in these states are notified ("requested" is taken up at once: there is no set-up step). */
export const LIVE_SUBSCRIPTION_STATUSES = ['requested', 'active'];
