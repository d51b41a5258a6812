import type { DocumentReference, Reference, Resource, ServiceRequest, Subscription, Task } from 'fhir/r4.js';
import { isPartyData } from '../access/resource-classes.js';
import { FhirError, issue } from '../fhir/operation-outcome.js';
import { routeStoredReferral } from '../routing/referral-routing-rule.js';
import type { Queryable } from '../store/database.js';
import { addOutboxRow } from '../store/outbox.js';
import { findResource, findResourcesContaining } from '../store/resource-store.js';
import { assertSupportedSubscription, SUBSCRIBABLE_TYPES } from '../subscriptions/subscription-criteria.js';
import { queueSubscriptionNotifications } from '../subscriptions/subscription-matching.js';
import { canMove, FINISHED_STATUSES } from './task-transitions.js';

/**
 * Whether a write of this resource can have effects beyond storing it (and so needs a
 * transaction): patient data always has, since its access grants are written with it.
 */
export function hasWriteEffects(resource: Resource): boolean {
  return isPartyData(resource.resourceType) || SUBSCRIBABLE_TYPES.has(resource.resourceType);
}

/** A Task may only move along the FHIR state machine, whoever writes it (FHIR R4 task.html#statemachine). */
function assertTaskTransition(stored: Task, previous: Task | undefined, entryPath: string): void {
  if (!previous || canMove(previous.status, stored.status)) return;
  throw new FhirError(409, [
    issue('business-rule', `Task/${stored.id} is ${previous.status}; it cannot become ${stored.status} (FHIR Task state machine)`, [`${entryPath}.status`]),
  ]);
}

/** The requester withdrew the referral: the room hears of it. */
async function announceCancellation(db: Queryable, stored: Task & { id: string }, previous: Task | undefined): Promise<void> {
  if (stored.status !== 'cancelled' || !previous || previous.status === 'cancelled') return;
  const reason = stored.statusReason?.text ?? stored.statusReason?.coding?.[0]?.display;
  await addOutboxRow(db, 'room.notice', {
    taskId: stored.id,
    notice: { text: `🚫 This referral was cancelled by the requester${reason ? `: ${reason}` : '.'} No further action is needed.` },
  });
}

/** The ServiceRequest changed: each referral still open shows its current version (an m.replace edit). */
async function announceServiceRequestEdit(db: Queryable, stored: ServiceRequest & { id: string }, previous: ServiceRequest | undefined): Promise<void> {
  if (!previous) return;
  const tasks = await findResourcesContaining<Task & { id: string }>(db, 'Task', { focus: { reference: `ServiceRequest/${stored.id}` } });
  for (const task of tasks) {
    if (!FINISHED_STATUSES.has(task.status)) await addOutboxRow(db, 'referral.edit', { taskId: task.id });
  }
}

/** Marks documents that came from a Matrix room: they are not sent back into it. */
export const ORIGIN_TAG_SYSTEM = 'http://carehub.example.org/fhir/CodeSystem/origin';
const fromMatrix = (resource: Resource) => resource.meta?.tag?.some((t) => t.system === ORIGIN_TAG_SYSTEM && t.code === 'matrix') ?? false;

const taskIdsIn = (references: Array<Reference | undefined> | undefined) =>
  new Set((references ?? []).map((r) => r?.reference).filter((r): r is string => Boolean(r?.startsWith('Task/'))).map((r) => r.slice('Task/'.length)));

/** A document newly linked to an open referral goes into the referral's room. */
async function sendDocumentToReferrals(db: Queryable, documentId: string, taskIds: Iterable<string>): Promise<void> {
  for (const taskId of taskIds) {
    const task = await findResource<Task>(db, 'Task', taskId);
    if (!task || FINISHED_STATUSES.has(task.status) || !task.focus?.reference?.startsWith('ServiceRequest/')) continue;
    await addOutboxRow(db, 'document.deliver', { taskId, documentReferenceId: documentId });
  }
}

/** DocumentReference.context.related (FHIR R4) or Task.input links a document to a referral. */
async function routeDocuments(db: Queryable, stored: Resource & { id: string }, previous: Resource | undefined): Promise<void> {
  if (stored.resourceType === 'DocumentReference' && !fromMatrix(stored)) {
    const now = taskIdsIn((stored as DocumentReference).context?.related);
    const before = taskIdsIn((previous as DocumentReference | undefined)?.context?.related);
    await sendDocumentToReferrals(db, stored.id, [...now].filter((id) => !before.has(id)));
  }
  if (stored.resourceType === 'Task') {
    const documentsIn = (task: Task | undefined) =>
      new Set((task?.input ?? []).map((i) => i.valueReference?.reference).filter((r): r is string => Boolean(r?.startsWith('DocumentReference/'))));
    const before = documentsIn(previous as Task | undefined);
    for (const reference of documentsIn(stored as Task)) {
      if (!before.has(reference)) await sendDocumentToReferrals(db, reference.slice('DocumentReference/'.length), [stored.id]);
    }
  }
}

/**
 * Everything a stored write sets in motion, run inside the write's transaction so that the
 * change and the work it causes commit (or roll back) together. Every writer calls it: the FHIR
 * API, Bundles, messages, and the hub's own updates from Matrix.
 */
export async function applyWriteEffects(db: Queryable, stored: Resource, entryPath: string, previous?: Resource): Promise<void> {
  if (stored.resourceType === 'Subscription') {
    assertSupportedSubscription(stored as Subscription);
    return;
  }
  if (stored.resourceType === 'Task') {
    const task = stored as Task & { id: string };
    assertTaskTransition(task, previous as Task | undefined, entryPath);
    await routeStoredReferral(db, task, entryPath, previous);
    await announceCancellation(db, task, previous as Task | undefined);
  }
  if (stored.resourceType === 'ServiceRequest' && !isOnlyMetaChange(stored, previous)) {
    await announceServiceRequestEdit(db, stored as ServiceRequest & { id: string }, previous as ServiceRequest | undefined);
  }
  await routeDocuments(db, stored as Resource & { id: string }, previous);
  await queueSubscriptionNotifications(db, stored as Resource & { id: string });
}

function isOnlyMetaChange(stored: Resource, previous: Resource | undefined): boolean {
  if (!previous) return false;
  const { meta: _a, ...now } = stored;
  const { meta: _b, ...before } = previous;
  return JSON.stringify(now) === JSON.stringify(before);
}
