import type { Resource } from 'fhir/r4.js';
import { FhirError, issue } from '../fhir/operation-outcome.js';
import { carehubCodeSystemUrl } from '@carehub/fhir-profiles';

/** Tag system marking which Organization owns (may change) a resource. */
export const OWNER_TAG_SYSTEM = carehubCodeSystemUrl('owner');
/** Role of the network's operators (the county), who may change any resource. */
export const OPERATOR_ROLE = 'operator';

/** Who is writing; undefined when authorization is off (then nothing is restricted). */
export interface Writer {
  /** "Organization/<id>" */
  organization: string;
  roles: string[];
}

export function ownerOf(resource: Resource): string | undefined {
  return resource.meta?.tag?.find((t) => t.system === OWNER_TAG_SYSTEM)?.code;
}

/**
 * Marks the writer's organisation as the owner of what it writes. An operator keeps an owner
 * the resource already names (it loads directories on behalf of others).
 */
export function stampOwner<T extends Resource>(resource: T, writer: Writer | undefined): T {
  if (!writer) return resource;
  const owner = writer.roles.includes(OPERATOR_ROLE) ? (ownerOf(resource) ?? writer.organization) : writer.organization;
  const tags = (resource.meta?.tag ?? []).filter((t) => t.system !== OWNER_TAG_SYSTEM);
  return { ...resource, meta: { ...resource.meta, tag: [...tags, { system: OWNER_TAG_SYSTEM, code: owner }] } };
}

/**
 * An integrator changes only what its organisation owns: resources tagged with its
 * Organization, and that Organization itself. Operators may change anything. Refused: 403.
 */
export function assertCanModify(current: Resource, writer: Writer | undefined): void {
  if (!writer || writer.roles.includes(OPERATOR_ROLE)) return;
  const self = `${current.resourceType}/${current.id}` === writer.organization;
  if (self || ownerOf(current) === writer.organization) return;
  throw new FhirError(403, [issue('forbidden', `${current.resourceType}/${current.id} belongs to ${ownerOf(current) ?? 'the network operator'}, not ${writer.organization}`)]);
}
