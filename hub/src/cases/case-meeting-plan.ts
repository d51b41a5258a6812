import type { Appointment, AppointmentParticipant, Reference } from 'fhir/r4.js';
import { BOT_MESSAGES } from '@carehub/matrix-bridge';

// A case's meetings, as FHIR says them: an Appointment linked to the case's CareTeam by
// `supportingInformation` (R4 has no element meant for it). What a write of one sets in motion,
// what the bot calls it, and what a member's yes or no makes of it; pure, tested without the stack.

type AppointmentStatus = Appointment['status'];

/** Still to take place: the room has its invitation and widget, and is reminded. */
export const UPCOMING_STATUSES: ReadonlySet<AppointmentStatus> = new Set(['proposed', 'pending', 'booked']);
/** Called off: the widget goes and the room is told. */
export const CANCELLED_STATUSES: ReadonlySet<AppointmentStatus> = new Set(['cancelled', 'entered-in-error']);

/** The CareTeam ids an Appointment is linked to: the cases whose rooms hold the meeting. */
export function casesOfAppointment(appointment: Appointment): string[] {
  const ids = (appointment.supportingInformation ?? []).map((r) => r.reference).filter((r): r is string => Boolean(r?.startsWith('CareTeam/')));
  return [...new Set(ids.map((r) => r.slice('CareTeam/'.length)))];
}

/**
 * The rooms a write of an Appointment has something to say to, as `case.meeting` payloads: on
 * create, every case it is linked to (the invitation); on update, the cases newly linked, and
 * when its start, end or status changed every case (the change, or the cancellation); a case no
 * longer linked hears that the meeting is off there. A change of the participants alone (a
 * member's yes or no, written by the hub) says nothing: the bot has already confirmed it.
 */
export function meetingNotices(stored: Appointment & { id: string }, previous: Appointment | undefined): Array<{ appointmentId: string; careTeamId: string }> {
  const now = casesOfAppointment(stored);
  const before = previous ? casesOfAppointment(previous) : [];
  const changed = previous !== undefined && (previous.start !== stored.start || previous.end !== stored.end || previous.status !== stored.status);
  const careTeamIds = [...now.filter((id) => changed || !before.includes(id)), ...before.filter((id) => !now.includes(id))];
  return careTeamIds.map((careTeamId) => ({ appointmentId: stored.id, careTeamId }));
}

const textOf = (concept: { text?: string; coding?: Array<{ display?: string }> } | undefined) => concept?.text ?? concept?.coding?.find((c) => c.display)?.display;

/** What the bot calls a meeting: its description (R4: the subject line of a meeting request), else its service or type. */
export function meetingTitle(appointment: Appointment): string {
  return appointment.description?.trim() || textOf(appointment.serviceType?.[0]) || textOf(appointment.appointmentType) || BOT_MESSAGES.meeting.untitled;
}

/**
 * The Appointment with a member's answer: the participant acting as `role` gets `status`
 * (added, with it, when the integrator did not list them). Undefined when it already says so.
 */
export function withParticipantAnswer<A extends Appointment>(appointment: A, role: Reference, status: 'accepted' | 'declined'): A | undefined {
  const participants = appointment.participant ?? [];
  const index = participants.findIndex((p) => p.actor?.reference === role.reference);
  if (index >= 0 && participants[index]!.status === status) return undefined;
  const answered: AppointmentParticipant[] =
    index >= 0 ? participants.map((p, i) => (i === index ? { ...p, status } : p)) : [...participants, { actor: { reference: role.reference! }, status }];
  return { ...appointment, participant: answered };
}

/**
 * Whether the room is to be reminded of a meeting now: `remind` from `minutes` before its start
 * until it starts, `missed` once it has started unreminded (nothing is said, but the start is
 * done with), undefined otherwise. `remindedStart` is the start the last reminder was for: a
 * meeting moved after its reminder is reminded of again.
 */
export function reminderDue(appointment: Appointment, at: Date, minutes: number, remindedStart: string | undefined): 'remind' | 'missed' | undefined {
  if (minutes <= 0 || !appointment.start || !UPCOMING_STATUSES.has(appointment.status) || remindedStart === appointment.start) return undefined;
  const start = new Date(appointment.start).getTime();
  if (Number.isNaN(start)) return undefined;
  if (at.getTime() >= start) return 'missed';
  return at.getTime() >= start - minutes * 60_000 ? 'remind' : undefined;
}

/** Whole minutes until the start, as the reminder says them (at least one). */
export const minutesUntil = (start: string, at: Date) => Math.max(1, Math.round((new Date(start).getTime() - at.getTime()) / 60_000));
