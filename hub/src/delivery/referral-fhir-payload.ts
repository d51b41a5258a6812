import type { Bundle, Patient, ServiceRequest, Task } from 'fhir/r4.js';
import type { FileMessageContent } from '../../../matrix-bridge/src/matrix-media.js';
import type { ReferralRooms } from '../../../matrix-bridge/src/referral-rooms.js';
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

/** Builds the referral's FHIR payload and uploads it encrypted; returns the m.file content for it. */
export async function uploadReferralPayload(db: Queryable, rooms: ReferralRooms, task: Task & { id: string }, request: ServiceRequest & { id: string }): Promise<FileMessageContent> {
  const payload = Buffer.from(JSON.stringify(await buildReferralPayload(db, task, request)));
  return rooms.uploadEncryptedFile(payload, { filename: `referral-${task.id}.fhir.json`, mimetype: FHIR_JSON });
}
