import type { Extension, Task } from 'fhir/r4.js';

export const TASK_BUSINESS_STATUS_SYSTEM = 'http://carehub.example.org/fhir/CodeSystem/task-business-status';
export const MATRIX_DELIVERY_EXTENSION = 'http://carehub.example.org/fhir/StructureDefinition/matrix-delivery';

/**
 * The Task after its referral reached the recipient's room. Task.status stays "requested"
 * (the recipient has not acted yet); businessStatus says it was delivered, and an extension
 * names the room and event so support staff can find the message.
 */
export function markTaskDelivered(task: Task, roomId: string, eventId: string, at: Date): Task {
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
    businessStatus: {
      coding: [{ system: TASK_BUSINESS_STATUS_SYSTEM, code: 'delivered', display: "Delivered to the recipient's Matrix room" }],
      text: 'Delivered',
    },
    lastModified: at.toISOString(),
    extension: [...(task.extension ?? []).filter((e) => e.url !== MATRIX_DELIVERY_EXTENSION), delivery],
  };
}
