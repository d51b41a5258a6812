import type { Task } from 'fhir/r4.js';
import type { ReferralRoomEvent } from '@carehub/matrix-bridge';
import { referencedId } from '../fhir/references.js';
import { FINISHED_STATUSES } from '../workflow/task-transitions.js';

/**
 * Where the answer to "which referral is this member's event about" is found: in the bot's event
 * it relates to (which names its Task), in what the hub recorded sending for the events it relates
 * to (thread root, reply or reaction target, in that order), or, for an event that relates to
 * nothing (typed at the top of the room), in the room's open referrals.
 */
export type ReferralClue =
  | { kind: 'named'; taskId: string | undefined }
  | { kind: 'related'; eventIds: string[] }
  | { kind: 'room' };

export function referralClueOf(event: Pick<ReferralRoomEvent, 'referral' | 'relatesTo'>): ReferralClue {
  if (event.referral) return { kind: 'named', taskId: referencedId(event.referral, 'Task') };
  if (event.relatesTo.length > 0) return { kind: 'related', eventIds: event.relatesTo };
  return { kind: 'room' };
}

/** A delivery the hub recorded (matrix_deliveries): the event it sent, and the referral it sent it for. */
export interface RecordedDelivery {
  event_id: string;
  task_id: string;
}

/** The referral of the first related event the hub recorded sending for one; `eventIds` are in order of precedence. */
export function firstRecordedReferral(eventIds: readonly string[], recorded: readonly RecordedDelivery[]): string | undefined {
  for (const eventId of eventIds) {
    const delivery = recorded.find((d) => d.event_id === eventId);
    if (delivery) return delivery.task_id;
  }
  return undefined;
}

/** In a room with one open case, "done" means that case; with none or several, it means none. */
export function onlyOpenReferral(tasks: ReadonlyArray<Pick<Task, 'status'> & { id: string }>): string | undefined {
  const open = tasks.filter((task) => !FINISHED_STATUSES.has(task.status));
  return open.length === 1 ? open[0]!.id : undefined;
}

/**
 * What a read receipt covers. A receipt in a referral's thread (MSC3771) covers the referral whose
 * message is the thread's root; one on the room's timeline covers every referral delivered up to
 * the event read, as the recipient's client shows the room's referrals in the order they arrived.
 */
export type ReceiptScope = { kind: 'thread'; rootEventId: string } | { kind: 'timeline'; upTo: string };

export function receiptScopeOf(event: Pick<ReferralRoomEvent, 'relatesTo'>, upTo: string): ReceiptScope {
  const threadRoot = event.relatesTo.find((id) => id !== upTo);
  return threadRoot ? { kind: 'thread', rootEventId: threadRoot } : { kind: 'timeline', upTo };
}
