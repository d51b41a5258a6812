import type { Annotation, Reference, Task } from 'fhir/r4.js';
import { TASK_BUSINESS_STATUS_SYSTEM } from '../delivery/task-delivery-status.js';
import type { TaskStatus } from './task-transitions.js';

/** Finer states than Task.status, in Task.businessStatus. */
export const BUSINESS_STATUS: Partial<Record<TaskStatus, { code: string; display: string }>> = {
  received: { code: 'read', display: 'Read by the recipient' },
  accepted: { code: 'accepted-in-matrix', display: 'Accepted by the recipient in Matrix' },
  rejected: { code: 'declined-in-matrix', display: 'Declined by the recipient in Matrix' },
  'in-progress': { code: 'in-progress', display: 'Being worked on by the recipient' },
  completed: { code: 'completed-in-matrix', display: 'Completed by the recipient in Matrix' },
};

export interface StatusChange {
  to: TaskStatus;
  at: Date;
  /**
   * Who acted: as R4's Annotation.author may name them (their Practitioner, or else their
   * role's Organization; R4 allows no PractitionerRole there), or their Matrix ID when the
   * directory has neither for them.
   */
  by: { author?: Reference; matrixUserId: string };
  /** The recipient's reason (rejected) or note (completed). */
  text?: string | undefined;
}

/** The Task after a recipient moved it, with who did it kept in a note. */
export function applyStatusChange(task: Task, change: StatusChange): Task {
  const business = BUSINESS_STATUS[change.to];
  const note: Annotation = {
    ...(change.by.author ? { authorReference: change.by.author } : { authorString: change.by.matrixUserId }),
    time: change.at.toISOString(),
    text: `${change.to} by ${change.by.matrixUserId} in Matrix${change.text ? `: ${change.text}` : ''}`,
  };
  const next: Task = {
    ...task,
    status: change.to,
    lastModified: change.at.toISOString(),
    note: [...(task.note ?? []), note],
    ...(business ? { businessStatus: { coding: [{ system: TASK_BUSINESS_STATUS_SYSTEM, ...business }], text: business.display } } : {}),
  };
  if (change.to === 'rejected') next.statusReason = { text: change.text ?? 'Declined without a reason' };
  if (change.to === 'completed' && change.text) {
    next.output = [...(task.output ?? []), { type: { text: 'Completion note' }, valueString: change.text }];
  }
  if (change.to === 'in-progress' || change.to === 'completed') {
    next.executionPeriod = {
      ...task.executionPeriod,
      start: task.executionPeriod?.start ?? change.at.toISOString(),
      ...(change.to === 'completed' ? { end: change.at.toISOString() } : {}),
    };
  }
  return next;
}
