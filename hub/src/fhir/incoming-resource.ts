import type { Resource } from 'fhir/r4.js';
import { profileIssues } from '@carehub/fhir-profiles';
import { assertJsonWithinLimits } from './json-limits.js';
import { badRequest, FhirError, issue } from './operation-outcome.js';
import { assertValidResource, boundedIssues } from './resource-validator.js';
import { isSupportedResourceType } from './supported-resources.js';

/**
 * Checks that a request body is a resource of a type the hub handles (and of `expectedType`,
 * when the URL names one), then validates it against the FHIR R4 definition of that type (400)
 * and against the CareHub profiles it must meet (422, FHIR R4 http.html#create: "violated
 * applicable FHIR profiles").
 */
export function parseIncomingResource(body: unknown, expectedType?: string): Resource {
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
  assertValidResource(resource);
  const profileErrors = profileIssues(resource);
  if (profileErrors.length > 0) throw new FhirError(422, boundedIssues(profileErrors));
  return resource;
}


