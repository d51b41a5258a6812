import type { Resource } from 'fhir/r4.js';
import { profileIssues } from '@carehub/fhir-profiles';
import { isFhirId } from './fhir-id.js';
import { assertJsonWithinLimits } from './json-limits.js';
import { badRequest, FhirError, issue } from './operation-outcome.js';
import { boundedIssues, type Validator } from './resource-validator.js';
import { isSupportedResourceType } from './supported-resources.js';

declare const passedParseIncomingResource: unique symbol;

/**
 * A resource parseIncomingResource accepted (a type-only mark: nothing is added at run time).
 * The resource writer stores one without validating it again (`validated: true`).
 */
export type ValidatedResource<T extends Resource = Resource> = T & { readonly [passedParseIncomingResource]: true };

/**
 * Checks that a request body is a resource of a type the hub handles (and of `expectedType`,
 * when the URL names one), then validates it against the FHIR R4 definition of that type (400)
 * and against the CareHub profiles it must meet (422, FHIR R4 http.html#create: "violated
 * applicable FHIR profiles"), with the hub's `validator` (the extensions it knows).
 */
export function parseIncomingResource(validator: Validator, body: unknown, expectedType?: string): ValidatedResource {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('the request body must be a FHIR resource (a JSON object)');
  }
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  if (typeof resourceType !== 'string') throw badRequest('the resource has no resourceType', ['resourceType']);
  if (expectedType !== undefined && resourceType !== expectedType) {
    throw badRequest(`the URL names ${expectedType} but the body is a ${resourceType}`, ['resourceType']);
  }
  if (!isSupportedResourceType(resourceType)) {
    throw new FhirError(404, [issue('not-supported', `resource type ${resourceType} is not supported by this server`)]);
  }
  // Before the validator, whose work grows with the resource: a patched or Bundle-carried
  // resource is held to the same limits as a body.
  assertJsonWithinLimits(body, resourceType);
  const resource = body as Resource;
  // Ids (also of contained resources) are among what the validator checks (validation/resource-ids.ts).
  validator.assertValidResource(resource);
  const profileErrors = profileIssues(resource);
  if (profileErrors.length > 0) throw new FhirError(422, boundedIssues(profileErrors));
  return resource as ValidatedResource;
}

/**
 * Parses the body of an update (or the result of a patch) of `type`/`id`. An id the FHIR id
 * pattern refuses is set aside while the body is validated when it is the id in the URL: it is
 * then the key of a resource an earlier hub stored (decision 0003), not a new id, and
 * updateResource refuses it unless that resource exists. Contained and other ids are checked as ever.
 */
export function parseUpdate(validator: Validator, body: unknown, type: string, id: string): ValidatedResource {
  const claimsId = typeof body === 'object' && body !== null && (body as { id?: unknown }).id === id;
  if (isFhirId(id) || !claimsId) return parseIncomingResource(validator, body, type);
  const { id: _storedId, ...withoutId } = body as Resource;
  const { resourceType, ...parsed } = parseIncomingResource(validator, withoutId, type);
  return { resourceType, id, ...parsed } as ValidatedResource;
}
