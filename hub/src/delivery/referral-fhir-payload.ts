import type { Bundle, Patient, ServiceRequest, Task } from 'fhir/r4.js';
import { parseReference } from '../fhir/references.js';
import type { Queryable } from '../store/database.js';
import { findResource } from '../store/resource-store.js';

export const FHIR_JSON = 'application/fhir+json';

/**
 * The referral as structured FHIR for the recipient's systems: a collection Bundle with the
 * Task, its ServiceRequest and the patient, sent as the referral message's encrypted file (the
 * way gematik's TI-Messenger carries FHIR in rooms, MSC4302).
 */
export async function buildReferralPayload(db: Queryable, task: Task & { id: string }, request: ServiceRequest & { id: string }): Promise<Bundle> {
  const subject = parseReference(request.subject);
  const patient = subject?.type === 'Patient' ? await findResource<Patient>(db, 'Patient', subject.id) : undefined;
  const resources = [task, request, ...(patient ? [patient] : [])];
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: new Date().toISOString(),
    entry: resources.map((resource) => ({ resource })),
  };
}

/** MSC4302 metadata: which FHIR structure the file holds. */
export const REFERRAL_PAYLOAD_STRUCTURE = {
  url: 'http://hl7.org/fhir/StructureDefinition/Bundle',
  version: '4.0.1',
  type: 'Bundle',
  fhir_version: '4.0.1',
};
