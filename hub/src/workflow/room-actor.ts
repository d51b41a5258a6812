import type { HumanName, Reference } from 'fhir/r4.js';
import { humanNameText } from '../fhir/human-name.js';
import { referencedId } from '../fhir/references.js';
import { rolesOfMatrixUser } from '../routing/roles-of-matrix-user.js';
import type { Queryable } from '../store/database.js';
import { findResource } from '../store/resource-store.js';

/** A member of a CareHub room as FHIR knows them: the role they act in, and the name the bot calls them by. */
export interface Actor {
  matrixUserId: string;
  role: Reference | undefined;
  /** Who they are where R4 takes no PractitionerRole (Annotation.author): the role's Practitioner, or its Organization. */
  author: Reference | undefined;
  name: string;
}

/** Who a Matrix user is in the directory: their PractitionerRole and name, if they have one. */
export async function actorFor(db: Queryable, matrixUserId: string): Promise<Actor> {
  const role = (await rolesOfMatrixUser(db, matrixUserId))[0];
  const practitionerId = referencedId(role?.practitioner, 'Practitioner');
  const practitioner = practitionerId ? await findResource<{ resourceType: string; name?: HumanName[] }>(db, 'Practitioner', practitionerId) : undefined;
  return {
    matrixUserId,
    role: role ? { reference: `PractitionerRole/${role.id}` } : undefined,
    author: role?.practitioner?.reference ? { reference: role.practitioner.reference } : role?.organization?.reference ? { reference: role.organization.reference } : undefined,
    name: humanNameText(practitioner?.name) ?? matrixUserId,
  };
}
