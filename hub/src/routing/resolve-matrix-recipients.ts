import { OPERATOR_ROLE } from '../auth/ownership.js';
import { endpointOrganization } from '../access/access-policy.js';
import type { Endpoint, HealthcareService, Organization, PractitionerRole, Reference } from 'fhir/r4.js';
import { parseReference } from '../fhir/references.js';
import type { Queryable } from '../store/database.js';
import { findResource, findResourcesContaining } from '../store/resource-store.js';
import { matrixUserOfEndpoint } from './matrix-address.js';

/**
 * The Matrix users of the Endpoints an entry lists, counting only Endpoints that belong to the
 * entry's own organisation (`organization`): an Endpoint another organisation wrote never
 * receives this organisation's referrals, even if it was attached before the access policy
 * refused such writes. Endpoints with no organisation at all (written with authorization off)
 * still count.
 */
async function endpointUsers(db: Queryable, references: Reference[] | undefined, organization: string | undefined): Promise<string[]> {
  const users: string[] = [];
  for (const reference of references ?? []) {
    const target = parseReference(reference);
    if (target?.type !== 'Endpoint') continue;
    const endpoint = await findResource<Endpoint>(db, 'Endpoint', target.id);
    if (!endpoint || !(await endpointServes(db, endpoint, organization))) continue;
    const user = matrixUserOfEndpoint(endpoint);
    if (user) users.push(user);
  }
  return users;
}

/**
 * Whether an Endpoint may serve an entry of `organization`: it belongs to that organisation, to
 * no one (written with authorization off), or to the network's operator, who loads directories
 * for others.
 */
export async function endpointServes(db: Queryable, endpoint: Endpoint, organization: string | undefined): Promise<boolean> {
  const belongsTo = endpointOrganization(endpoint);
  if (belongsTo === undefined || belongsTo === organization) return true;
  const { rows } = await db.query('SELECT 1 FROM smart_clients WHERE organization = $1 AND $2 = ANY(roles) AND active LIMIT 1', [belongsTo, OPERATOR_ROLE]);
  return rows.length > 0;
}

async function rolesUsers(db: Queryable, roles: PractitionerRole[]): Promise<string[]> {
  const users: string[] = [];
  for (const role of roles) {
    if (role.active === false) continue;
    users.push(...(await endpointUsers(db, role.endpoint, role.organization?.reference)));
  }
  return users;
}

/**
 * The Matrix users a Task owner (or any recipient reference) reaches, through the directory:
 * - PractitionerRole: its Matrix endpoints;
 * - Practitioner: the endpoints of all their active roles;
 * - Organization / HealthcareService: its own endpoints plus those of every active role in it,
 *   so a referral to a practice reaches each of its members.
 * Works on a transaction's client, so resources created in the same Bundle are found.
 */
export async function resolveMatrixRecipients(db: Queryable, recipient: Reference | undefined): Promise<string[]> {
  const target = parseReference(recipient);
  if (!target) return [];
  const { type, id } = target;
  const reference = `${type}/${id}`;
  let users: string[] = [];
  switch (type) {
    case 'PractitionerRole': {
      const role = await findResource<PractitionerRole>(db, type, id);
      users = role ? await rolesUsers(db, [role]) : [];
      break;
    }
    case 'Practitioner':
      users = await rolesUsers(db, await findResourcesContaining<PractitionerRole>(db, 'PractitionerRole', { practitioner: { reference } }));
      break;
    case 'Organization': {
      const organization = await findResource<Organization>(db, type, id);
      if (!organization || organization.active === false) break;
      users = [
        ...(await endpointUsers(db, organization.endpoint, reference)),
        ...(await rolesUsers(db, await findResourcesContaining<PractitionerRole>(db, 'PractitionerRole', { organization: { reference } }))),
      ];
      break;
    }
    case 'HealthcareService': {
      const service = await findResource<HealthcareService>(db, type, id);
      if (!service || service.active === false) break;
      users = [
        ...(await endpointUsers(db, service.endpoint, service.providedBy?.reference)),
        ...(await rolesUsers(db, await findResourcesContaining<PractitionerRole>(db, 'PractitionerRole', { healthcareService: [{ reference }] }))),
      ];
      break;
    }
    default:
      users = [];
  }
  return [...new Set(users)].sort();
}
