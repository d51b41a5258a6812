import type { DocumentStore } from '../documents/document-store.js';
import type { Validator } from '../fhir/resource-validator.js';
import type { SubscriptionEndpointPolicy } from '../subscriptions/subscription-criteria.js';

/**
 * The configured parts every write of a resource needs, wherever it comes from (the FHIR API,
 * Bundles, messages, the hub's own updates from Matrix and delivery records): made once at
 * wiring (startHub) from the config and carried down each write path, never read from module
 * state.
 */
export interface WriteContext {
  /** The FHIR validator with the extensions this hub knows (validation.extensions). */
  validator: Validator;
  /** Binary content and DocumentReference attachments (documents.*). */
  documents: DocumentStore;
  /** The rest-hook endpoints a stored Subscription may name (subscriptions.allowedHosts). */
  subscriptionEndpoints: SubscriptionEndpointPolicy;
}
