import type { OperationOutcome, Parameters, Resource } from 'fhir/r4.js';
import { validateAgainstProfile } from '@carehub/fhir-profiles';
import { parseIncomingResource } from '../fhir/incoming-resource.js';
import { badRequest, FhirError, informationOutcome } from '../fhir/operation-outcome.js';
import { boundedIssues, type Validator } from '../fhir/resource-validator.js';
import { assertCodesKnownToTerminologyServer, type TerminologyServer } from '../fhir/validation/terminology-server.js';

/** The `mode` values of FHIR R4 Resource-validate that the hub can judge without the stored resource. */
const MODES = new Set(['create', 'update', 'profile']);

interface ValidateRequest {
  resource: unknown;
  mode?: string;
  profile?: string;
}

/** The operation's input: the resource itself, or a Parameters with `resource`, `mode` and `profile` (query parameters count too). */
function readRequest(body: unknown, query: Record<string, unknown>): ValidateRequest {
  const fromQuery = (name: string) => (typeof query[name] === 'string' ? (query[name] as string) : undefined);
  if ((body as Resource | undefined)?.resourceType !== 'Parameters') {
    return { resource: body, mode: fromQuery('mode'), profile: fromQuery('profile') };
  }
  const parameters = (body as Parameters).parameter ?? [];
  const named = (name: string) => parameters.find((p) => p.name === name);
  return {
    resource: named('resource')?.resource,
    mode: named('mode')?.valueCode ?? fromQuery('mode'),
    profile: named('profile')?.valueUri ?? named('profile')?.valueCanonical ?? fromQuery('profile'),
  };
}

/**
 * FHIR R4 `$validate` (resource-operation-validate), at the system level (`POST /fhir/$validate`,
 * the type taken from the resource) and the type level (`POST /fhir/<Type>/$validate`). It
 * judges the resource exactly as a write would (`parseIncomingResource`), without storing it,
 * and answers 200 with an OperationOutcome either way. `mode=update` also needs an id;
 * `profile` names a profile to check besides the base definition and CareHub's own.
 * `mode=delete` is not taken here: it is about a stored resource, not one sent. Codes the hub
 * cannot check are asked of the terminology server, when there is one, as a write would.
 */
export async function validateOperation(validator: Validator, body: unknown, query: Record<string, unknown>, type?: string, terminologyServer?: TerminologyServer): Promise<OperationOutcome> {
  const request = readRequest(body, query);
  if (request.mode !== undefined && !MODES.has(request.mode)) {
    throw badRequest(`mode "${request.mode}" is not supported here: use create, update or profile`, ['Parameters.parameter[mode]']);
  }
  if (request.resource === undefined) throw badRequest('no resource to validate: send it as the body, or as the "resource" parameter of a Parameters', ['Parameters.parameter[resource]']);
  try {
    const resource = parseIncomingResource(validator, request.resource, type);
    if (request.mode === 'update' && !resource.id) throw badRequest('mode update needs the resource to have an id', [`${resource.resourceType}.id`]);
    if (request.profile) {
      const issues = validateAgainstProfile(resource, request.profile);
      if (issues.length > 0) throw new FhirError(422, boundedIssues(issues));
    }
    // Codes no one could check are listed after the verdict: valid as far as the hub can tell.
    const unchecked = await assertCodesKnownToTerminologyServer(resource, terminologyServer);
    const outcome = informationOutcome(`the ${resource.resourceType} is valid${request.profile ? ` against ${request.profile}` : ''}`);
    return { ...outcome, issue: [...outcome.issue, ...boundedIssues(unchecked)] };
  } catch (error) {
    if (!(error instanceof FhirError) || error.status >= 500) throw error;
    return error.outcome;
  }
}
