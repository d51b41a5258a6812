import type { Resource, Task } from 'fhir/r4.js';
import { unprocessable } from '../fhir/operation-outcome.js';
import type { Queryable } from '../store/database.js';
import { addOutboxRow } from '../store/outbox.js';
import { findResource } from '../store/resource-store.js';
import { resolveMatrixRecipients } from './resolve-matrix-recipients.js';

/** A Task the hub must deliver: a requested order that points at a ServiceRequest and has an owner. */
export function isReferralToDeliver(resource: Resource): resource is Task & { id: string } {
  if (resource.resourceType !== 'Task') return false;
  const task = resource as Task;
  return (
    task.status === 'requested' &&
    task.intent === 'order' &&
    Boolean(task.focus?.reference?.startsWith('ServiceRequest/')) &&
    Boolean(task.owner?.reference)
  );
}

/**
 * Runs inside the write's transaction after a resource is stored. A Task that has just become a
 * referral to deliver (created so, or updated into it from, say, a draft) gets an outbox row,
 * committed together with it; later edits of a referral do not send it again. A referral whose
 * ServiceRequest or recipient cannot be found is refused (422) and the whole write rolls back:
 * nothing is stored that the hub could never deliver.
 */
export async function routeStoredReferral(db: Queryable, resource: Resource, entryPath: string, previous?: Resource): Promise<void> {
  if (!isReferralToDeliver(resource)) return;
  if (previous && isReferralToDeliver(previous)) return;
  const focusId = resource.focus!.reference!.slice('ServiceRequest/'.length);
  if (!(await findResource(db, 'ServiceRequest', focusId))) {
    throw unprocessable(`Task.focus ${resource.focus!.reference} does not exist`, [`${entryPath}.focus`]);
  }
  const recipients = await resolveMatrixRecipients(db, resource.owner);
  if (recipients.length === 0) {
    throw unprocessable(
      `Task.owner ${resource.owner!.reference} has no active Matrix endpoint in the directory; the referral cannot be delivered`,
      [`${entryPath}.owner`],
    );
  }
  await addOutboxRow(db, 'referral.deliver', { taskId: resource.id });
}
