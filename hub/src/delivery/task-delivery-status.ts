import type { CodeableConcept, Extension, Task } from 'fhir/r4.js';
import { carehubCodeSystemUrl, carehubStructureDefinitionUrl } from '@carehub/fhir-profiles';

export const TASK_BUSINESS_STATUS_SYSTEM = carehubCodeSystemUrl('task-business-status');
export const MATRIX_DELIVERY_EXTENSION = carehubStructureDefinitionUrl('matrix-delivery');

export const DELIVERED: CodeableConcept = {
  coding: [{ system: TASK_BUSINESS_STATUS_SYSTEM, code: 'delivered', display: "Delivered to the recipient's Matrix room, readable on a recipient's device" }],
  text: 'Delivered',
};
export const NOT_READABLE_YET: CodeableConcept = {
  coding: [{ system: TASK_BUSINESS_STATUS_SYSTEM, code: 'delivered-not-readable', display: "In the recipient's Matrix room, but none of the recipients' devices can decrypt it yet" }],
  text: 'Delivered, not readable yet',
};

const isNotReadableYet = (task: Task) => task.businessStatus?.coding?.some((c) => c.system === TASK_BUSINESS_STATUS_SYSTEM && c.code === NOT_READABLE_YET.coding![0]!.code) ?? false;

/**
 * The Task after its referral reached the recipient's room. Task.status stays "requested"
 * (the recipient has not acted yet); businessStatus says whether a recipient can read it
 * ("Delivered") or none of their devices got its key ("Delivered, not readable yet"), and an
 * extension names the room and event so support staff can find the message.
 */
export function markTaskDelivered(task: Task, roomId: string, eventId: string, at: Date, readable: boolean): Task {
  const delivery: Extension = {
    url: MATRIX_DELIVERY_EXTENSION,
    extension: [
      { url: 'room', valueString: roomId },
      { url: 'event', valueString: eventId },
      { url: 'deliveredAt', valueDateTime: at.toISOString() },
    ],
  };
  // A quick GP may have answered before the delivery was recorded: keep their newer state.
  if (task.status !== 'requested') return { ...task, extension: [...(task.extension ?? []).filter((e) => e.url !== MATRIX_DELIVERY_EXTENSION), delivery] };
  return {
    ...task,
    businessStatus: readable ? DELIVERED : NOT_READABLE_YET,
    lastModified: at.toISOString(),
    extension: [...(task.extension ?? []).filter((e) => e.url !== MATRIX_DELIVERY_EXTENSION), delivery],
  };
}

/** The Task once a re-send made its referral readable for a recipient; undefined when nothing changes. */
export function markTaskReadable(task: Task, at: Date): Task | undefined {
  if (task.status !== 'requested' || !isNotReadableYet(task)) return undefined;
  return { ...task, businessStatus: DELIVERED, lastModified: at.toISOString() };
}
