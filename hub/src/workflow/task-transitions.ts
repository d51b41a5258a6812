import type { Task } from 'fhir/r4.js';
import { BOT_MESSAGES, type AnswerAction } from '@carehub/matrix-bridge';

export type TaskStatus = Task['status'];

/**
 * The FHIR R4 Task state machine (task.html#statemachine), as CareHub lets a referral move.
 * Finished states lead nowhere but entered-in-error (a record made by mistake).
 */
const NEXT: Record<TaskStatus, readonly TaskStatus[]> = {
  draft: ['requested', 'cancelled', 'entered-in-error'],
  requested: ['received', 'accepted', 'rejected', 'cancelled', 'entered-in-error'],
  received: ['accepted', 'rejected', 'cancelled', 'entered-in-error'],
  accepted: ['ready', 'in-progress', 'cancelled', 'failed', 'on-hold', 'entered-in-error'],
  ready: ['in-progress', 'cancelled', 'failed', 'on-hold', 'entered-in-error'],
  'in-progress': ['completed', 'on-hold', 'failed', 'cancelled', 'entered-in-error'],
  'on-hold': ['in-progress', 'cancelled', 'failed', 'entered-in-error'],
  rejected: ['entered-in-error'],
  cancelled: ['entered-in-error'],
  failed: ['entered-in-error'],
  completed: ['entered-in-error'],
  'entered-in-error': [],
};

export const FINISHED_STATUSES: ReadonlySet<TaskStatus> = new Set(['rejected', 'cancelled', 'failed', 'completed', 'entered-in-error']);

export function canMove(from: TaskStatus, to: TaskStatus): boolean {
  return from === to || NEXT[from].includes(to);
}

/**
 * The statuses a recipient's action walks the Task through, in order, from `from`; undefined
 * when the action makes no sense now. Acting on a referral implies having read it, so an
 * "accept" straight from requested records received first (both versions are kept, and
 * subscribers hear of both); "complete" from accepted passes through in-progress.
 */
export function pathFor(action: AnswerAction, from: TaskStatus): TaskStatus[] | undefined {
  const read: TaskStatus[] = from === 'requested' ? ['received'] : [];
  switch (action) {
    case 'accept':
      return from === 'requested' || from === 'received' ? [...read, 'accepted'] : undefined;
    case 'decline':
      return from === 'requested' || from === 'received' ? [...read, 'rejected'] : undefined;
    case 'start':
      return from === 'accepted' || from === 'ready' || from === 'on-hold' ? ['in-progress'] : undefined;
    case 'complete':
      if (from === 'in-progress') return ['completed'];
      return from === 'accepted' || from === 'ready' ? ['in-progress', 'completed'] : undefined;
  }
}

/** Why an action is refused, in words a GP understands (the bot's message catalogue). */
export function refusalFor(action: AnswerAction, from: TaskStatus): string {
  if (FINISHED_STATUSES.has(from)) return BOT_MESSAGES.refusal.finished(from, action);
  if (action === 'start' || action === 'complete') return BOT_MESSAGES.refusal.acceptFirst(action);
  return BOT_MESSAGES.refusal.already(from, action);
}
