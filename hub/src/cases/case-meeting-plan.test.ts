import type { Appointment } from 'fhir/r4.js';
import { writeEffectsOf } from '../workflow/write-effect-plan.js';
import { casesOfAppointment, meetingNotices, meetingTitle, minutesUntil, reminderDue, withParticipantAnswer } from './case-meeting-plan.js';

type Stored = Appointment & { id: string };
const appointment = (extra: Partial<Appointment> = {}): Stored => ({
  resourceType: 'Appointment',
  id: 'a1',
  status: 'booked',
  description: 'Discharge planning',
  start: '2026-04-02T13:00:00Z',
  end: '2026-04-02T14:00:00Z',
  supportingInformation: [{ reference: 'CareTeam/ct1' }],
  participant: [
    { actor: { reference: 'PractitionerRole/counsellor' }, status: 'accepted' },
    { actor: { reference: 'PractitionerRole/gp' }, status: 'needs-action' },
  ],
  ...extra,
});

describe('an Appointment belongs to the cases it names as supporting information', () => {
  test('only CareTeam references count, each once', () => {
    expect(casesOfAppointment(appointment({ supportingInformation: [{ reference: 'CareTeam/ct1' }, { reference: 'DocumentReference/d1' }, { reference: 'CareTeam/ct1' }, { reference: 'CareTeam/ct2' }] }))).toEqual(['ct1', 'ct2']);
    expect(casesOfAppointment(appointment({ supportingInformation: undefined }))).toEqual([]);
  });
});

describe("what a write of an Appointment says in its cases' rooms", () => {
  const notices = (stored: Stored, previous?: Appointment) => meetingNotices(stored, previous).map((n) => n.careTeamId);

  test('a new one is announced in each case, through the writer as a case.meeting row', () => {
    expect(notices(appointment())).toEqual(['ct1']);
    expect(writeEffectsOf(appointment())).toContainEqual({ kind: 'schedule-meeting', payload: { appointmentId: 'a1', careTeamId: 'ct1' } });
  });

  test('moved, shortened or cancelled: the room hears of it', () => {
    expect(notices(appointment({ start: '2026-04-02T14:00:00Z', end: '2026-04-02T15:00:00Z' }), appointment())).toEqual(['ct1']);
    expect(notices(appointment({ end: '2026-04-02T13:30:00Z' }), appointment())).toEqual(['ct1']);
    expect(notices(appointment({ status: 'cancelled' }), appointment())).toEqual(['ct1']);
  });

  test("a member's answer (participants alone) says nothing more, nor does a re-save", () => {
    const answered = withParticipantAnswer(appointment(), { reference: 'PractitionerRole/gp' }, 'accepted')!;
    expect(notices(answered, appointment())).toEqual([]);
    expect(writeEffectsOf(answered, appointment()).map((e) => e.kind)).not.toContain('schedule-meeting');
    expect(notices(appointment(), appointment())).toEqual([]);
  });

  test('a case newly linked gets the invitation; a case no longer linked hears it is off', () => {
    const moved = appointment({ supportingInformation: [{ reference: 'CareTeam/ct2' }] });
    expect(notices(moved, appointment())).toEqual(['ct2', 'ct1']);
  });

  test('an Appointment linked to no case is no meeting of a room', () => {
    expect(notices(appointment({ supportingInformation: [] }))).toEqual([]);
  });
});

describe('what the bot calls a meeting', () => {
  test('its description, else its service or type, else "Case meeting"', () => {
    expect(meetingTitle(appointment())).toBe('Discharge planning');
    expect(meetingTitle(appointment({ description: undefined, serviceType: [{ coding: [{ display: 'Care-plan conference' }] }] }))).toBe('Care-plan conference');
    expect(meetingTitle(appointment({ description: ' ', appointmentType: { text: 'Video consultation' } }))).toBe('Video consultation');
    expect(meetingTitle(appointment({ description: undefined }))).toBe('Case meeting');
  });
});

describe("a member's yes or no", () => {
  test("sets the status of the participant acting as the member's role", () => {
    const answered = withParticipantAnswer(appointment(), { reference: 'PractitionerRole/gp' }, 'accepted');
    expect(answered?.participant).toEqual([
      { actor: { reference: 'PractitionerRole/counsellor' }, status: 'accepted' },
      { actor: { reference: 'PractitionerRole/gp' }, status: 'accepted' },
    ]);
  });

  test('adds the role as a participant when the integrator did not list it', () => {
    const answered = withParticipantAnswer(appointment(), { reference: 'PractitionerRole/nurse' }, 'declined');
    expect(answered?.participant?.[2]).toEqual({ actor: { reference: 'PractitionerRole/nurse' }, status: 'declined' });
  });

  test('the same answer again changes nothing', () => {
    expect(withParticipantAnswer(appointment(), { reference: 'PractitionerRole/counsellor' }, 'accepted')).toBeUndefined();
  });
});

describe('the reminder', () => {
  const start = new Date('2026-04-02T13:00:00Z').getTime();
  const at = (minutesBefore: number) => new Date(start - minutesBefore * 60_000);

  test('is due from the set minutes before the start until it starts, once per start', () => {
    expect(reminderDue(appointment(), at(16), 15, undefined)).toBeUndefined();
    expect(reminderDue(appointment(), at(15), 15, undefined)).toBe('remind');
    expect(reminderDue(appointment(), at(1), 15, undefined)).toBe('remind');
    expect(reminderDue(appointment(), at(1), 15, '2026-04-02T13:00:00Z')).toBeUndefined();
  });

  test('a meeting moved after its reminder is reminded of again', () => {
    expect(reminderDue(appointment({ start: '2026-04-02T13:10:00Z' }), at(1), 15, '2026-04-02T13:00:00Z')).toBe('remind');
  });

  test('a meeting that started unreminded is passed over, not announced late', () => {
    expect(reminderDue(appointment(), at(-5), 15, undefined)).toBe('missed');
  });

  test('cancelled or unscheduled meetings, and 0 minutes, are never reminded of', () => {
    expect(reminderDue(appointment({ status: 'cancelled' }), at(5), 15, undefined)).toBeUndefined();
    expect(reminderDue(appointment({ status: 'proposed', start: undefined, end: undefined }), at(5), 15, undefined)).toBeUndefined();
    expect(reminderDue(appointment(), at(5), 0, undefined)).toBeUndefined();
  });

  test('says the whole minutes left, at least one', () => {
    expect(minutesUntil('2026-04-02T13:00:00Z', at(14.6))).toBe(15);
    expect(minutesUntil('2026-04-02T13:00:00Z', at(0.2))).toBe(1);
  });
});
