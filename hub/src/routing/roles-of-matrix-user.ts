import { endpointServes } from './resolve-matrix-recipients.js';
import type { Endpoint, PractitionerRole } from 'fhir/r4.js';
import type { Queryable } from '../store/database.js';
import { findResourcesContaining } from '../store/resource-store.js';
import { matrixUserOfEndpoint } from './matrix-address.js';

/**
 * The directory's PractitionerRoles that a Matrix user acts in: the roles whose active Matrix
 * Endpoint names that user. The reverse of resolveMatrixRecipients; answers from a room are
 * attributed to these roles in FHIR.
 */
export async function rolesOfMatrixUser(db: Queryable, userId: string): Promise<Array<PractitionerRole & { id: string }>> {
  // The directory may hold any of the address forms parseMatrixAddress accepts.
  const addresses = [`matrix:u/${userId}`, `matrix:u/${userId.slice(1)}`, userId];
  const endpoints: Array<Endpoint & { id: string }> = [];
  for (const address of addresses) endpoints.push(...(await findResourcesContaining<Endpoint & { id: string }>(db, 'Endpoint', { address })));
  const roles = new Map<string, PractitionerRole & { id: string }>();
  for (const endpoint of endpoints.filter((e) => matrixUserOfEndpoint(e) === userId)) {
    for (const role of await findResourcesContaining<PractitionerRole & { id: string }>(db, 'PractitionerRole', { endpoint: [{ reference: `Endpoint/${endpoint.id}` }] })) {
      // Only an Endpoint of the role's own organisation makes a Matrix user act in that role.
      if (role.active !== false && (await endpointServes(db, endpoint, role.organization?.reference))) roles.set(role.id, role);
    }
  }
  return [...roles.values()];
}
