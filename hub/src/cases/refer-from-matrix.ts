import type { CareTeam, ServiceRequest, Task } from 'fhir/r4.js';
import { stampOwner, type Writer } from '../auth/ownership.js';
import { createResource } from '../fhir/resource-writer.js';
import type { Queryable } from '../store/database.js';
import type { WriteContext } from '../workflow/write-context.js';

/**
 * A referral a member sends from Matrix ("refer …"): a ServiceRequest about the case's person
 * with the member's PractitionerRole as requester, and a Task for the recipient, written for
 * the member's organisation through the one write path, so it is checked and routed like an
 * integrator's. `origin`: the case room message it was sent with, where its status is told.
 */
export async function referFromMatrix(
  writes: WriteContext,
  client: Queryable,
  referral: { careTeam: CareTeam & { id: string }; requesterRole: string; owner: string; request: string; writer: Writer; origin?: { roomId: string; eventId: string } },
): Promise<Task & { id: string }> {
  const { careTeam, writer } = referral;
  const requester = { reference: referral.requesterRole };
  const now = new Date().toISOString();
  const request = await createResource<ServiceRequest>(
    writes,
    client,
    stampOwner({ resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: careTeam.subject!, requester, code: { text: referral.request }, authoredOn: now, supportingInfo: [{ reference: `CareTeam/${careTeam.id}` }] }, writer),
  );
  const task = await createResource<Task>(
    writes,
    client,
    stampOwner({ resourceType: 'Task', status: 'requested', intent: 'order', focus: { reference: `ServiceRequest/${request.id}` }, for: careTeam.subject!, requester, owner: { reference: referral.owner }, authoredOn: now, description: referral.request }, writer),
  );
  if (referral.origin) await client.query('INSERT INTO matrix_referrals (task_id, room_id, event_id) VALUES ($1, $2, $3)', [task.id, referral.origin.roomId, referral.origin.eventId]);
  return task as Task & { id: string };
}

/** Where a referral sent from a case room was sent, if it was. */
export async function originOfReferral(db: Queryable, taskId: string): Promise<{ roomId: string; eventId: string } | undefined> {
  const { rows } = await db.query<{ room_id: string; event_id: string }>('SELECT room_id, event_id FROM matrix_referrals WHERE task_id = $1', [taskId]);
  return rows[0] && { roomId: rows[0].room_id, eventId: rows[0].event_id };
}
