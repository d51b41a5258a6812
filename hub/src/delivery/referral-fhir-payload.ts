import type { Bundle, Patient, ServiceRequest, Task } from 'fhir/r4.js';
import { type FileMessageContent, type ReferralMessageContent, type ReferralView, type RoomSender, renderReferralMessage } from '@carehub/matrix-bridge';
import type { Queryable } from '../store/database.js';
import { buildReferralView, findPatientOf } from './referral-view.js';

export const FHIR_JSON = 'application/fhir+json';

/**
 * The referral as structured FHIR for the recipient's systems: a collection Bundle with the
 * Task, its ServiceRequest and the patient, carried in the referral message's encrypted content
 * (the way gematik's TI-Messenger carries FHIR in rooms, MSC4302).
 */
export function buildReferralPayload(task: Task & { id: string }, request: ServiceRequest & { id: string }, patient: Patient | undefined): Bundle {
  const resources = [task, request, ...(patient ? [patient] : [])];
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: new Date().toISOString(),
    entry: resources.map((resource) => ({ resource })),
  };
}

/** MSC4302 metadata: which FHIR structure the message carries. */
export const REFERRAL_PAYLOAD_STRUCTURE = {
  url: 'http://hl7.org/fhir/StructureDefinition/Bundle',
  version: '4.0.1',
  type: 'Bundle',
  fhir_version: '4.0.1',
};

/** A referral ready to send: its message, and what it was rendered from. */
export interface RenderedReferral {
  view: ReferralView;
  bundle: Bundle;
  content: ReferralMessageContent;
}

/** Renders a Task's referral (its current version) as the one event a GP's client shows. */
export async function renderReferralFor(
  db: Queryable,
  task: Task & { id: string },
  request: ServiceRequest & { id: string },
  heading?: Parameters<typeof renderReferralMessage>[3],
): Promise<RenderedReferral> {
  const patient = await findPatientOf(db, request);
  const [view, bundle] = [await buildReferralView(db, task, request, patient), buildReferralPayload(task, request, patient)];
  return { view, bundle, content: renderReferralMessage(view, bundle, REFERRAL_PAYLOAD_STRUCTURE, heading) };
}

/** Uploads the FHIR of a referral too large to carry it inline (encrypted); the m.file content for its thread. */
export function uploadReferralFhir(sender: RoomSender, rendered: RenderedReferral): Promise<FileMessageContent> {
  return sender.uploadEncryptedFile(Buffer.from(JSON.stringify(rendered.bundle)), { filename: `referral-${rendered.view.taskId}.fhir.json`, mimetype: FHIR_JSON });
}
