import type { CodeableConcept, HumanName, Patient, Reference, ServiceRequest, Task } from 'fhir/r4.js';
import type { ReferralView } from '@carehub/matrix-bridge';
import { parseReference, referencedId } from '../fhir/references.js';
import type { Queryable } from '../store/database.js';
import { findResource } from '../store/resource-store.js';
import { humanNameText } from '../fhir/human-name.js';

function conceptText(concept: CodeableConcept | undefined): string | undefined {
  return concept?.text ?? concept?.coding?.find((c) => c.display)?.display ?? concept?.coding?.[0]?.code;
}

/** A readable name for whoever a reference points at: its display, else the directory's name for it. */
async function displayOf(db: Queryable, reference: Reference | undefined): Promise<string | undefined> {
  if (!reference) return undefined;
  if (reference.display) return reference.display;
  const target = parseReference(reference);
  if (!target) return reference.reference;
  const resource = await findResource<{ resourceType: string; name?: unknown; practitioner?: Reference; organization?: Reference }>(
    db,
    target.type,
    target.id,
  );
  if (!resource) return reference.reference;
  if (typeof resource.name === 'string') return resource.name;
  if (Array.isArray(resource.name)) return humanNameText(resource.name as HumanName[]);
  if (resource.resourceType === 'PractitionerRole') {
    const who = await displayOf(db, resource.practitioner);
    const where = await displayOf(db, resource.organization);
    return [who, where].filter(Boolean).join(', ') || reference.reference;
  }
  return reference.reference;
}

/** A referral as stored: the Task and the ServiceRequest it is about (its focus). */
export interface StoredReferral {
  task: Task & { id: string };
  request: ServiceRequest & { id: string };
}

/** The Task and its ServiceRequest, or undefined when either is gone. */
export async function findReferral(db: Queryable, taskId: string): Promise<StoredReferral | undefined> {
  const task = await findResource<Task & { id: string }>(db, 'Task', taskId);
  const requestId = referencedId(task?.focus, 'ServiceRequest');
  const request = requestId ? await findResource<ServiceRequest & { id: string }>(db, 'ServiceRequest', requestId) : undefined;
  return task && request ? { task, request } : undefined;
}

/** The patient a ServiceRequest is for, when its subject is a stored Patient. */
export async function findPatientOf(db: Queryable, request: ServiceRequest): Promise<Patient | undefined> {
  const subject = parseReference(request.subject);
  return subject?.type === 'Patient' ? findResource<Patient>(db, 'Patient', subject.id) : undefined;
}

/** Gathers what the GP's message shows from the Task, its ServiceRequest, its patient and the directory. */
export async function buildReferralView(db: Queryable, task: Task & { id: string }, request: ServiceRequest & { id: string }, patient: Patient | undefined): Promise<ReferralView> {
  return {
    taskId: task.id,
    serviceRequestId: request.id,
    patient: {
      name: humanNameText(patient?.name) ?? request.subject.display ?? 'unknown patient',
      birthDate: patient?.birthDate,
      identifier: patient?.identifier?.[0]?.value,
    },
    request: conceptText(request.code) ?? 'Referral',
    reason: conceptText(request.reasonCode?.[0]),
    priority: request.priority ?? task.priority ?? 'routine',
    requester: (await displayOf(db, task.requester ?? request.requester)) ?? 'unknown requester',
    dueDate: task.restriction?.period?.end ?? request.occurrenceDateTime,
    note: request.note?.[0]?.text,
  };
}
