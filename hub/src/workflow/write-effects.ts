import type { Resource, Subscription, Task } from 'fhir/r4.js';
import { isPartyData } from '../access/resource-classes.js';
import { FhirError, issue } from '../fhir/operation-outcome.js';
import { routeStoredReferral } from '../routing/referral-routing-rule.js';
import type { Queryable } from '../store/database.js';
import { addOutboxRow } from '../store/outbox.js';
import { findResource, findResourcesContaining } from '../store/resource-store.js';
import { assertSupportedSubscription, SUBSCRIBABLE_TYPES } from '../subscriptions/subscription-criteria.js';
import { queueSubscriptionNotifications } from '../subscriptions/subscription-matching.js';
import { canMove, FINISHED_STATUSES } from './task-transitions.js';
import { isOpenReferral, writeEffectsOf } from './write-effect-plan.js';

export { ORIGIN_TAG_SYSTEM } from './write-effect-plan.js';

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

/** The ServiceRequest changed: each referral still open shows its current version (an m.replace edit). */
async function announceServiceRequestEdit(db: Queryable, serviceRequestId: string): Promise<void> {
  const tasks = await findResourcesContaining<Task & { id: string }>(db, 'Task', { focus: { reference: `ServiceRequest/${serviceRequestId}` } });
  for (const task of tasks) {
    if (!FINISHED_STATUSES.has(task.status)) await addOutboxRow(db, 'referral.edit', { taskId: task.id });
  }
}

/** A document newly linked to an open referral goes into the referral's room. */
async function sendDocumentToReferral(db: Queryable, documentId: string, taskId: string): Promise<void> {
  const task = await findResource<Task>(db, 'Task', taskId);
  if (!task || !isOpenReferral(task)) return;
  await addOutboxRow(db, 'document.deliver', { taskId, documentReferenceId: documentId });
}

/**
 * Everything a stored write sets in motion (`writeEffectsOf`), run inside the write's transaction
 * so that the change and the work it causes commit (or roll back) together. Every writer calls
 * it: the FHIR API, Bundles, messages, and the hub's own updates from Matrix.
 */
export async function applyWriteEffects(db: Queryable, stored: Resource, entryPath: string, previous?: Resource): Promise<void> {
  for (const effect of writeEffectsOf(stored as Resource & { id: string }, previous)) {
    switch (effect.kind) {
      case 'check-subscription':
        assertSupportedSubscription(stored as Subscription);
        break;
      case 'check-task-transition':
        assertTaskTransition(stored as Task, previous as Task | undefined, entryPath);
        break;
      case 'route-referral':
        await routeStoredReferral(db, stored, entryPath, previous);
        break;
      case 'room-notice':
        await addOutboxRow(db, 'room.notice', effect.payload);
        break;
      case 'edit-open-referrals':
        await announceServiceRequestEdit(db, effect.serviceRequestId);
        break;
      case 'send-document':
        await sendDocumentToReferral(db, effect.documentReferenceId, effect.taskId);
        break;
      case 'notify-subscribers':
        await queueSubscriptionNotifications(db, stored as Resource & { id: string });
        break;
    }
  }
}
