import type { Endpoint, HealthcareService, Location, Organization, PractitionerRole, Reference, Resource, Task } from 'fhir/r4.js';
import type { Caller } from '../auth/access-token.js';
import { OPERATOR_ROLE, ownerOf } from '../auth/ownership.js';
import { scopeAllows } from '../auth/scopes.js';
import { FhirError, issue, notFound } from '../fhir/operation-outcome.js';
import { parseReference } from '../fhir/references.js';
import { SUPPORTED_RESOURCE_TYPES } from '../fhir/supported-resources.js';
import type { Queryable } from '../store/database.js';
import { organizationsOf } from './access-grants.js';
import { DIRECTORY_TYPES, isAuditType, isDirectoryType, isPartyData } from './resource-classes.js';
import { referencesIn } from './resource-references.js';

/** The auditor role reads the audit trail, and only it. */
export const AUDITOR_ROLE = 'auditor';

/**
 * Who is asking, for the access policy: the verified caller, and the reason an operator gave
 * for break-glass access, if any. `undefined` means authorization is off (a trusted
 * development network): nothing is restricted.
 */
export type Access = (Caller & { breakGlassReason?: string | undefined }) | undefined;

/** Collects a statement's parameters (the search module's SqlParameters has the same shape). */
interface Parameters {
  add(value: unknown): string;
}

const isOperator = (access: NonNullable<Access>) => access.roles.includes(OPERATOR_ROLE);
const isAuditor = (access: NonNullable<Access>) => access.roles.includes(AUDITOR_ROLE);
/** Operators read patient data only through audited break-glass access (docs/access-policy.md). */
const breaksGlass = (access: NonNullable<Access>) => isOperator(access) && Boolean(access.breakGlassReason);

/**
 * The policy as one SQL condition on rows of `alias` (any table with resource_type and id):
 * the directory for everyone, the audit trail for auditors, everything else where the caller's
 * organisation is a party. Search, includes, chains and history all filter with it.
 */
export function readableCondition(access: Access, alias: string, p: Parameters): string {
  if (!access) return 'TRUE';
  const alternatives = [`${alias}.resource_type = ANY(${p.add([...DIRECTORY_TYPES])}::text[])`];
  if (isAuditor(access)) alternatives.push(`${alias}.resource_type = 'AuditEvent'`);
  if (breaksGlass(access)) alternatives.push(`${alias}.resource_type <> 'AuditEvent'`);
  alternatives.push(
    `EXISTS (SELECT 1 FROM access_grants g WHERE g.resource_type = ${alias}.resource_type AND g.id = ${alias}.id AND g.organization = ${p.add(access.organization)})`,
  );
  return `(${alternatives.join(' OR ')})`;
}

/** The types whose resources the caller's scopes let it read: included resources are filtered by them too. */
export function readableTypes(access: Access): string[] {
  const types = SUPPORTED_RESOURCE_TYPES.filter((type) => !access || scopeAllows(access.scopes, type, 'read') || scopeAllows(access.scopes, type, 'search'));
  return access && !isAuditor(access) ? types.filter((type) => !isAuditType(type)) : types;
}

/** Whether an organisation is a party to a resource (subscriptions and the bot ask this for an organisation, not a caller). */
export async function organizationMayRead(db: Queryable, organization: string, type: string, id: string): Promise<boolean> {
  if (isDirectoryType(type)) return true;
  if (isAuditType(type)) return false;
  const { rows } = await db.query('SELECT 1 FROM access_grants WHERE resource_type = $1 AND id = $2 AND organization = $3 LIMIT 1', [type, id, organization]);
  return rows.length > 0;
}

export async function mayRead(db: Queryable, access: Access, type: string, id: string): Promise<boolean> {
  if (!access || isDirectoryType(type)) return true;
  if (isAuditType(type)) return isAuditor(access);
  if (breaksGlass(access)) return true;
  return organizationMayRead(db, access.organization, type, id);
}

/**
 * Refuses a read of what the caller may not see as if it did not exist (404), so nobody learns
 * which ids another organisation holds. AuditEvents answer 403: their existence is no secret.
 */
export async function assertMayRead(db: Queryable, access: Access, type: string, id: string): Promise<void> {
  if (await mayRead(db, access, type, id)) return;
  if (isAuditType(type)) throw new FhirError(403, [issue('forbidden', 'AuditEvents are for the auditor role')]);
  throw notFound(`${type}/${id} does not exist`);
}

/** Resources a transaction creates, by "Type/id": a write may point at them before they are stored. */
export type CreatedHere = ReadonlyMap<string, Resource>;

/**
 * Before an update, patch or delete of an existing resource: one the caller may not read is
 * answered as missing (404), so the answer does not tell which ids another organisation holds.
 * Whether a readable one may be changed is ownership's question (auth/ownership.ts).
 */
export async function assertMayModify(db: Queryable, access: Access, type: string, id: string): Promise<void> {
  if (!access || !isPartyData(type)) return;
  // A deleted resource counts too: a PUT onto its id must not take over its history.
  const { rows } = await db.query('SELECT 1 FROM resources WHERE resource_type = $1 AND id = $2', [type, id]);
  if (rows.length > 0 && !(await organizationMayRead(db, access.organization, type, id))) throw notFound(`${type}/${id} does not exist`);
}

const forbidden = (message: string, expression: string) => new FhirError(403, [issue('forbidden', message, [expression])]);

/** The organisation an Endpoint belongs to: the one managing it, else the one that wrote it. */
export function endpointOrganization(endpoint: Endpoint): string | undefined {
  return endpoint.managingOrganization?.reference ?? ownerOf(endpoint);
}

/** The organisation a directory resource belongs to, from its own content (a new Organization: itself once it has an id). */
function directoryOrganization(resource: Resource): string | undefined {
  switch (resource.resourceType) {
    case 'Organization':
      return resource.id ? `Organization/${resource.id}` : undefined;
    case 'PractitionerRole':
      return (resource as PractitionerRole).organization?.reference;
    case 'HealthcareService':
      return (resource as HealthcareService).providedBy?.reference;
    case 'Location':
      return (resource as Location).managingOrganization?.reference;
    case 'Endpoint':
      return (resource as Endpoint).managingOrganization?.reference;
    default:
      return undefined;
  }
}

/** A directory write: an organisation writes only its own entries, and attaches only its own Endpoints. */
async function assertDirectoryWrite(db: Queryable, access: NonNullable<Access>, resource: Resource, path: string, createdHere: CreatedHere): Promise<void> {
  const type = resource.resourceType;
  const own = access.organization;
  if (!isOperator(access)) {
    const named = directoryOrganization(resource);
    if (type === 'Organization') {
      const parent = (resource as Organization).partOf?.reference;
      if (named !== own && parent !== own) {
        throw forbidden(`an Organization is created by the network operator, or by ${own} as a part of itself (partOf ${own})`, `${path}.partOf`);
      }
    } else if (type === 'PractitionerRole' || type === 'HealthcareService') {
      const field = type === 'PractitionerRole' ? 'organization' : 'providedBy';
      if (named !== own) throw forbidden(`a ${type} of ${named ?? 'no organisation'} is written only by that organisation; ${own} may write its own (${field}: ${own})`, `${path}.${field}`);
      if (type === 'PractitionerRole') await assertRoleLinksOwn(db, own, resource as PractitionerRole, path, createdHere);
    } else if ((type === 'Location' || type === 'Endpoint') && named !== undefined && named !== own) {
      throw forbidden(`a ${type} managed by ${named} is written only by that organisation`, `${path}.managingOrganization`);
    }
    if (type === 'Endpoint') await assertMatrixAddressFree(db, own, resource as Endpoint, path);
  }
  const endpoints = ((resource as { endpoint?: Reference[] }).endpoint ?? []).map((r, index) => ({ target: parseReference(r), index }));
  if (endpoints.length === 0) return;
  // The organisation whose members the Endpoints must reach: the entry's own, else the writer's.
  const belongsTo = new Set([directoryOrganization(resource) ?? own, ...(type === 'Organization' && !isOperator(access) ? [own] : [])]);
  for (const { target, index } of endpoints) {
    const at = `${path}.endpoint[${index}]`;
    if (target?.type !== 'Endpoint') throw forbidden('an endpoint reference must name an Endpoint of this server (Endpoint/<id>)', at);
    let endpoint = createdHere.get(`Endpoint/${target.id}`) as Endpoint | undefined;
    if (!endpoint) {
      const { rows } = await db.query<{ content: Endpoint }>(`SELECT content FROM resources WHERE resource_type = 'Endpoint' AND id = $1 AND NOT deleted`, [target.id]);
      endpoint = rows[0]?.content;
    }
    const organization = endpoint && (endpointOrganization(endpoint) ?? (isOperator(access) ? own : undefined));
    // An operator loads directories for others: Endpoints it wrote itself may serve any entry.
    const operatorsOwn = isOperator(access) && organization === own;
    if (!organization || (!belongsTo.has(organization) && !operatorsOwn)) {
      throw forbidden(`Endpoint/${target.id} does not belong to ${[...belongsTo].join(' or ')}; only an organisation's own Endpoints are attached to its entries`, at);
    }
  }
}

/**
 * A PractitionerRole links a person and services to its organisation: only the writer's own
 * Practitioner entries and HealthcareServices, so no role can make another organisation's
 * practitioner or service reach its Endpoints. (The operator links people across organisations.)
 */
async function assertRoleLinksOwn(db: Queryable, own: string, role: PractitionerRole, path: string, createdHere: CreatedHere): Promise<void> {
  const links: Array<{ reference: Reference | undefined; at: string; belongsTo: (r: Resource) => string | undefined }> = [
    { reference: role.practitioner, at: `${path}.practitioner`, belongsTo: (r) => ownerOf(r) },
    ...(role.healthcareService ?? []).map((reference, index) => ({ reference, at: `${path}.healthcareService[${index}]`, belongsTo: (r: Resource) => (r as HealthcareService).providedBy?.reference })),
  ];
  for (const { reference, at, belongsTo } of links) {
    const target = parseReference(reference);
    if (!reference) continue;
    if (!target) throw forbidden('name a resource of this server (Type/id)', at);
    const createdWithIt = createdHere.get(`${target.type}/${target.id}`);
    let organization: string | undefined;
    if (createdWithIt) organization = target.type === 'Practitioner' ? own : belongsTo(createdWithIt);
    else {
      const { rows } = await db.query<{ content: Resource }>('SELECT content FROM resources WHERE resource_type = $1 AND id = $2 AND NOT deleted', [target.type, target.id]);
      organization = rows[0] && belongsTo(rows[0].content);
    }
    if (organization !== own) throw forbidden(`${target.type}/${target.id} is not ${own}'s own entry; a role links only its organisation's own practitioners and services`, at);
  }
}

/**
 * Refuses an Endpoint whose Matrix user another organisation's Endpoint already names: one
 * Matrix account acts for one organisation, so nobody can redirect or claim a GP's answers.
 */
async function assertMatrixAddressFree(db: Queryable, own: string, endpoint: Endpoint, path: string): Promise<void> {
  const user = endpoint.address?.replace(/^matrix:u\//, '').replace(/^([^@])/, '@$1');
  if (!user || !endpoint.address?.includes(':')) return;
  const { rows } = await db.query<{ content: Endpoint }>(
    `SELECT content FROM resources WHERE resource_type = 'Endpoint' AND NOT deleted AND id <> $4 AND content ->> 'address' = ANY(ARRAY[$1, $2, $3])`,
    [`matrix:u/${user}`, `matrix:u/${user.slice(1)}`, user, endpoint.id ?? ''],
  );
  const taken = rows.map((r) => endpointOrganization(r.content)).find((organization) => organization !== own);
  if (rows.length > 0 && taken !== undefined) {
    throw forbidden(`the Matrix user ${user} is already the Endpoint of another organisation`, `${path}.address`);
  }
}

/** A Task's requester is the writer's own organisation, or one of its roles (or practitioners with a role there). */
async function assertOwnRequester(db: Queryable, access: NonNullable<Access>, task: Pick<Task, 'requester' | 'owner' | 'resourceType'>, path: string, createdHere: CreatedHere): Promise<void> {
  const target = parseReference(task.requester);
  if (!task.requester) {
    // A Task for someone else is a referral: the room it goes to and the sender it shows come from its requester.
    if (task.resourceType === 'Task' && task.owner) throw forbidden('a Task with an owner names its requester: the writer’s own organisation or one of its roles', `${path}.requester`);
    return;
  }
  const own = access.organization;
  const newRole = target && (createdHere.get(`${target.type}/${target.id}`) as PractitionerRole | undefined);
  const organizations = newRole?.resourceType === 'PractitionerRole' ? [newRole.organization?.reference ?? ''] : await organizationsOf(db, [task.requester]);
  if (!organizations.includes(own)) {
    throw forbidden(`${task.resourceType}.requester must be ${own} or one of its PractitionerRoles: a referral is sent in the writer's own name`, `${path}.requester`);
  }
}

/** References to patient data must name what the writer may read (or what this same request creates). */
async function assertReadableReferences(db: Queryable, access: NonNullable<Access>, resource: Resource, path: string, createdHere: CreatedHere): Promise<void> {
  const targets = referencesIn(resource).filter(
    (r) => isPartyData(r.type) && !createdHere.has(`${r.type}/${r.id}`) && !(r.type === resource.resourceType && r.id === resource.id),
  );
  for (const target of targets) {
    if (isAuditType(target.type) || !(await mayRead(db, access, target.type, target.id))) {
      throw forbidden(`${target.type}/${target.id} does not exist or is not shared with ${access.organization}; a write may only point at what its writer may read`, target.path.replace(/^[A-Za-z]+/, path).replace(/\.reference$/, ''));
    }
  }
}

/**
 * The access policy's check of a write, before anything is stored (docs/access-policy.md):
 * directory entries are written by the organisation they belong to; a write points only at
 * what its writer may read; a Task is requested in the writer's own name. Modifying an existing
 * resource is also limited to its owner (auth/ownership.ts assertCanModify).
 * `createdHere` holds the resources the same transaction creates, by Type/id.
 */
export async function assertMayWrite(db: Queryable, access: Access, resource: Resource, path: string, createdHere: CreatedHere = new Map()): Promise<void> {
  if (!access) return;
  if (isAuditType(resource.resourceType)) throw forbidden('AuditEvents are written by the hub alone', path);
  if (isDirectoryType(resource.resourceType)) {
    await assertDirectoryWrite(db, access, resource, path, createdHere);
    return;
  }
  await assertReadableReferences(db, access, resource, path, createdHere);
  if (resource.resourceType === 'Task' || resource.resourceType === 'ServiceRequest') await assertOwnRequester(db, access, resource as Task, path, createdHere);
}
