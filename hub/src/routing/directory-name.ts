import type { HealthcareService, Organization, Practitioner, PractitionerRole, Reference } from 'fhir/r4.js';
import { humanNameText } from '../fhir/human-name.js';
import { parseReference } from '../fhir/references.js';
import type { Queryable } from '../store/database.js';
import { findResource } from '../store/resource-store.js';

/**
 * How members know a directory entry, by name: an Organization's or HealthcareService's name,
 * a PractitionerRole's practitioner and organisation ("Jonas Berg, Praxis Dr. Berg"). Undefined
 * for anything else, or an entry not found.
 */
export async function directoryName(db: Queryable, reference: Reference | undefined): Promise<string | undefined> {
  const target = parseReference(reference);
  if (!target) return undefined;
  if (target.type === 'Organization') return (await findResource<Organization>(db, 'Organization', target.id))?.name;
  if (target.type === 'HealthcareService') return (await findResource<HealthcareService>(db, 'HealthcareService', target.id))?.name;
  if (target.type !== 'PractitionerRole') return undefined;
  const role = await findResource<PractitionerRole>(db, 'PractitionerRole', target.id);
  const practitionerId = parseReference(role?.practitioner)?.id;
  const person = practitionerId ? humanNameText((await findResource<Practitioner>(db, 'Practitioner', practitionerId))?.name) : undefined;
  const organizationId = parseReference(role?.organization)?.id;
  const organization = organizationId ? (await findResource<Organization>(db, 'Organization', organizationId))?.name : undefined;
  return [person, organization].filter(Boolean).join(', ') || undefined;
}
