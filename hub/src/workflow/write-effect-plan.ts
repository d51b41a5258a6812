import type { Appointment, CareTeam, Communication, Consent, DocumentReference, Reference, Resource, ServiceRequest, Subscription, Task } from 'fhir/r4.js';
import { BOT_MESSAGES } from '@carehub/matrix-bridge';
import type { OutboxTopics } from '../store/outbox.js';
import { SUBSCRIBABLE_TYPES } from '../subscriptions/subscription-criteria.js';
import { FINISHED_STATUSES } from './task-transitions.js';
import { carehubCodeSystemUrl } from '@carehub/fhir-profiles';
import { meetingNotices } from '../cases/case-meeting-plan.js';

/**
 * One thing a stored write sets in motion, in the order the resource writer
 * (fhir/resource-writer.ts) runs them. What follows from the write alone is decided here; what
 * needs the database (does the referral's focus exist, which Subscriptions match) is left to the step.
 */
export type WriteEffect =
  /** Refuse a Subscription the hub cannot serve (channel, criteria, endpoint). */
  | { kind: 'check-subscription' }
  /** Refuse a Task change off the FHIR Task state machine. */
  | { kind: 'check-task-transition' }
  /** A Task that has become a referral to deliver gets a `referral.deliver` row, once its focus and owner check out. */
  | { kind: 'route-referral' }
  /** A `room.notice` row, known from the write alone. */
  | { kind: 'room-notice'; payload: OutboxTopics['room.notice'] }
  /** Each referral of this ServiceRequest still open shows its new version: a `referral.edit` row each. */
  | { kind: 'edit-open-referrals'; serviceRequestId: string }
  /** A document newly linked to a referral: a `document.deliver` row if that referral is open (`isOpenReferral`). */
  | { kind: 'send-document'; documentReferenceId: string; taskId: string }
  /** Refuse a case (CareTeam) that shares a person's data beyond their Consent. */
  | { kind: 'check-case-consent' }
  /** A case's room follows its CareTeam: a `case.settle` row. */
  | { kind: 'settle-case'; careTeamId: string }
  /** A referral's status changed and its requester talks to the bot in a direct chat: told there. */
  | { kind: 'tell-requester'; taskId: string }
  /** A case closed (CareTeam inactive): its transcript is exported (`case.export`). */
  | { kind: 'export-case'; careTeamId: string }
  /** A Consent changed: the open cases about its person lose the participants it no longer covers. */
  | { kind: 'follow-consent'; patient: string }
  /** An integrator's Communication to a case or about a referral: a `communication.post` row, into that room. */
  | { kind: 'post-communication'; payload: OutboxTopics['communication.post'] }
  /** A case meeting (an Appointment linked to a CareTeam) created, moved or called off: a `case.meeting` row for that case's room. */
  | { kind: 'schedule-meeting'; payload: OutboxTopics['case.meeting'] }
  /** Each live Subscription whose criteria match this version: a `subscription.notify` row each. */
  | { kind: 'notify-subscribers' };

/** Marks documents that came from a Matrix room: they are not sent back into it. */
export const ORIGIN_TAG_SYSTEM = carehubCodeSystemUrl('origin');
const fromMatrix = (resource: Resource) => resource.meta?.tag?.some((t) => t.system === ORIGIN_TAG_SYSTEM && t.code === 'matrix') ?? false;

const taskIdsIn = (references: Array<Reference | undefined> | undefined) =>
  new Set((references ?? []).map((r) => r?.reference).filter((r): r is string => Boolean(r?.startsWith('Task/'))).map((r) => r.slice('Task/'.length)));

const documentsIn = (task: Task | undefined) =>
  new Set((task?.input ?? []).map((i) => i.valueReference?.reference).filter((r): r is string => Boolean(r?.startsWith('DocumentReference/'))));

/** The requester withdrew the referral: the room hears of it, once. */
export function cancellationNotice(stored: Task & { id: string }, previous: Task | undefined): OutboxTopics['room.notice'] | undefined {
  if (stored.status !== 'cancelled' || !previous || previous.status === 'cancelled') return undefined;
  const reason = stored.statusReason?.text ?? stored.statusReason?.coding?.[0]?.display;
  return {
    taskId: stored.id,
    notice: { text: BOT_MESSAGES.cancelled(reason) },
  };
}

/**
 * Documents newly linked to referrals: DocumentReference.context.related (FHIR R4) or Task.input.
 * A document that came from a referral's room is not linked back into it.
 */
export function newDocumentLinks(stored: Resource & { id: string }, previous: Resource | undefined): Array<{ documentReferenceId: string; taskId: string }> {
  if (stored.resourceType === 'DocumentReference') {
    if (fromMatrix(stored)) return [];
    const now = taskIdsIn((stored as DocumentReference).context?.related);
    const before = taskIdsIn((previous as DocumentReference | undefined)?.context?.related);
    return [...now].filter((id) => !before.has(id)).map((taskId) => ({ documentReferenceId: stored.id, taskId }));
  }
  if (stored.resourceType === 'Task') {
    const before = documentsIn(previous as Task | undefined);
    return [...documentsIn(stored as Task)]
      .filter((reference) => !before.has(reference))
      .map((reference) => ({ documentReferenceId: reference.slice('DocumentReference/'.length), taskId: stored.id }));
  }
  return [];
}

const idsOf = (references: Array<Reference | undefined>, type: string) =>
  [...new Set(references.map((r) => r?.reference).filter((r): r is string => Boolean(r?.startsWith(`${type}/`))).map((r) => r.slice(type.length + 1)))];

/**
 * Where an integrator's new Communication goes (a message from a case system or a clinic, not
 * one the hub made from a room): into the room of each case it is sent to or about, and as a
 * notice into the thread of each referral it is part of or about. Its text is said there as the
 * sender's, and it is encrypted like every message in those rooms.
 */
export function communicationPosts(communication: Communication & { id: string }): WriteEffect[] {
  const cases = idsOf([...(communication.recipient ?? []), ...(communication.about ?? [])], 'CareTeam');
  const referrals = idsOf([...(communication.partOf ?? []), ...(communication.about ?? [])], 'Task');
  return [
    ...cases.map((careTeamId) => ({ kind: 'post-communication' as const, payload: { communicationId: communication.id, careTeamId } })),
    ...referrals.map((taskId) => ({ kind: 'post-communication' as const, payload: { communicationId: communication.id, taskId } })),
  ];
}

/** Whether a Task is a referral documents still go to: not finished, and about a ServiceRequest. */
export function isOpenReferral(task: Task): boolean {
  return !FINISHED_STATUSES.has(task.status) && Boolean(task.focus?.reference?.startsWith('ServiceRequest/'));
}

/** Whether a new version differs from the one before only in meta (a re-save): no one needs to hear of it. */
export function isOnlyMetaChange(stored: Resource, previous: Resource | undefined): boolean {
  if (!previous) return false;
  const { meta: _a, ...now } = stored;
  const { meta: _b, ...before } = previous;
  return JSON.stringify(now) === JSON.stringify(before);
}

/** What a stored write of `stored` (over `previous`, for an update) sets in motion, in order. */
export function writeEffectsOf(stored: Resource & { id: string }, previous?: Resource): WriteEffect[] {
  // A Subscription is checked, and is nothing anyone subscribes to. One switched off (by its
  // owner, or by the hub when its endpoint keeps failing) calls nobody, so it needs no check:
  // the hub must be able to mark it "error" even after the allowed hosts changed.
  if (stored.resourceType === 'Subscription') {
    const status = (stored as Subscription).status;
    return status === 'off' || status === 'error' ? [] : [{ kind: 'check-subscription' }];
  }
  const effects: WriteEffect[] = [];
  if (stored.resourceType === 'Task') {
    effects.push({ kind: 'check-task-transition' }, { kind: 'route-referral' });
    const requester = (stored as Task).requester?.reference;
    if (previous && (previous as Task).status !== (stored as Task).status && requester?.startsWith('PractitionerRole/')) effects.push({ kind: 'tell-requester', taskId: stored.id });
    const notice = cancellationNotice(stored as Task & { id: string }, previous as Task | undefined);
    if (notice) effects.push({ kind: 'room-notice', payload: notice });
  }
  if (stored.resourceType === 'ServiceRequest' && previous && !isOnlyMetaChange(stored as ServiceRequest, previous)) {
    effects.push({ kind: 'edit-open-referrals', serviceRequestId: stored.id });
  }
  if (stored.resourceType === 'CareTeam' && !isOnlyMetaChange(stored, previous)) {
    effects.push({ kind: 'check-case-consent' }, { kind: 'settle-case', careTeamId: stored.id });
    if ((stored as CareTeam).status === 'inactive' && previous && (previous as CareTeam).status !== 'inactive') effects.push({ kind: 'export-case', careTeamId: stored.id });
  }
  const consentOf = (stored as Consent).patient?.reference;
  if (stored.resourceType === 'Consent' && previous && consentOf && !isOnlyMetaChange(stored, previous)) effects.push({ kind: 'follow-consent', patient: consentOf });
  if (stored.resourceType === 'Communication' && !previous && !fromMatrix(stored)) effects.push(...communicationPosts(stored as Communication & { id: string }));
  if (stored.resourceType === 'Appointment') effects.push(...meetingNotices(stored as Appointment & { id: string }, previous as Appointment | undefined).map((payload) => ({ kind: 'schedule-meeting' as const, payload })));
  for (const link of newDocumentLinks(stored, previous)) effects.push({ kind: 'send-document', ...link });
  if (SUBSCRIBABLE_TYPES.has(stored.resourceType)) effects.push({ kind: 'notify-subscribers' });
  return effects;
}
