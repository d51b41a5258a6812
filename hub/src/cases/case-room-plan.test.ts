import type { CareTeam } from 'fhir/r4.js';
import type { OpenHoursRule } from '@carehub/matrix-bridge';
import { caseNumberOf, caseRoomName, isLocked, mutedAt } from './case-room-plan.js';
import type { CaseRoomRecord } from './case-room-record.js';

const BERLIN = 'Europe/Berlin';
const GP = '@gp:carehub.test';
const NURSE = '@nurse:carehub.test';
const DAUGHTER = '@ingrids-daughter:carehub.test';

/** Ingrid's case, as a counsellor at the care office opens it. */
const ingridsCase = (changes: Partial<CareTeam> = {}): CareTeam & { id: string } => ({
  resourceType: 'CareTeam',
  id: 'ct-7f3a',
  status: 'active',
  name: 'Care team for Ingrid Halvorsen',
  identifier: [{ system: 'urn:carehub:case-number', value: '2025-0042' }],
  category: [{ coding: [{ system: 'http://loinc.org', code: 'LA28866-4', display: 'Home & Community Care' }], text: 'Home care' }],
  subject: { reference: 'Patient/ingrid', display: 'Ingrid Halvorsen' },
  ...changes,
});

const record = (changes: Partial<CaseRoomRecord> = {}): CaseRoomRecord => ({
  careTeamId: 'ct-7f3a',
  roomId: '!case:carehub.test',
  muted: {},
  locked: false,
  mutedAll: false,
  openHours: undefined,
  hoursOpen: undefined,
  exportedAt: undefined,
  purgeRequestedAt: undefined,
  purgedAt: undefined,
  ...changes,
});

describe('the case number integrators and counsellors quote', () => {
  test("is the case's first identifier with a value", () => {
    expect(caseNumberOf(ingridsCase())).toBe('2025-0042');
    expect(caseNumberOf(ingridsCase({ identifier: [{ system: 'urn:other' }, { value: 'K-17' }, { value: 'K-18' }] }))).toBe('K-17');
  });

  test('is the CareTeam id when the case has no identifier', () => {
    expect(caseNumberOf(ingridsCase({ identifier: undefined }))).toBe('ct-7f3a');
    expect(caseNumberOf(ingridsCase({ identifier: [{ system: 'urn:carehub:case-number' }] }))).toBe('ct-7f3a');
  });
});

describe("the room's name, which the homeserver stores unencrypted", () => {
  test('says the case number and the service, never whom the case is about', () => {
    const careTeam = ingridsCase();
    const name = caseRoomName(careTeam);
    expect(name).toBe('Case 2025-0042 · Home care');
    expect(name).not.toContain(careTeam.name);
    expect(name).not.toMatch(/Ingrid|Halvorsen/);
  });

  test("names the service by its coding's display when the category has no text, and 'Care case' when there is none", () => {
    expect(caseRoomName(ingridsCase({ category: [{ coding: [{ system: 'http://loinc.org', code: 'LA28866-4' }, { display: 'Home & Community Care' }] }] }))).toBe('Case 2025-0042 · Home & Community Care');
    expect(caseRoomName(ingridsCase({ category: undefined }))).toBe('Case 2025-0042 · Care case');
    expect(caseRoomName(ingridsCase({ category: [{ coding: [{ system: 'http://loinc.org', code: 'LA28866-4' }] }] }))).toBe('Case 2025-0042 · Care case');
  });

  test('stays free of the name when the case has no number and is named after her', () => {
    const careTeam = ingridsCase({ identifier: undefined, category: undefined });
    expect(caseRoomName(careTeam)).toBe('Case ct-7f3a · Care case');
    expect(caseRoomName(careTeam)).not.toMatch(/Ingrid|Halvorsen/);
  });
});

describe('who a moderator has muted', () => {
  const NOW = new Date('2025-06-15T10:00:00Z');

  test('a GP muted for 30 minutes is muted until then, and may write again once the time is up', () => {
    const muted = record({ muted: { [GP]: '2025-06-15T10:30:00.000Z' } });
    expect(mutedAt(muted, NOW)).toEqual([GP]);
    expect(mutedAt(muted, new Date('2025-06-15T10:29:59.999Z'))).toEqual([GP]);
    expect(mutedAt(muted, new Date('2025-06-15T10:30:00.000Z'))).toEqual([]);
    expect(mutedAt(muted, new Date('2025-06-16T00:00:00Z'))).toEqual([]);
  });

  test('a member muted without a time (null) stays muted until a moderator unmutes them', () => {
    expect(mutedAt(record({ muted: { [DAUGHTER]: null } }), new Date('2030-01-01T00:00:00Z'))).toEqual([DAUGHTER]);
  });

  test('several mutes are listed in a stable order, the ones run out left out; nobody muted is an empty list', () => {
    const muted = record({ muted: { [NURSE]: null, [GP]: '2025-06-15T11:00:00Z', [DAUGHTER]: '2025-06-15T09:00:00Z' } });
    expect(mutedAt(muted, NOW)).toEqual([GP, NURSE]);
    expect(mutedAt(record(), NOW)).toEqual([]);
  });
});

describe('whether the room is read-only now', () => {
  // Tuesdays and Thursdays 15:00–16:00 on Berlin's clock. On Tuesday 31 March 2026 Berlin is on
  // CEST (UTC+2), so the room is open from 13:00 to 14:00 UTC.
  const TUE_THU_AFTERNOONS: OpenHoursRule = { days: ['tue', 'thu'], start: '15:00', end: '16:00' };
  const DURING_HOURS = new Date('2026-03-31T13:30:00Z');
  const AFTER_HOURS = new Date('2026-03-31T15:30:00Z');

  test('an open case with no moderation and no open hours is open', () => {
    expect(isLocked(ingridsCase(), record(), DURING_HOURS, BERLIN)).toBe(false);
  });

  test('a moderator who locks the room locks it, whatever the hours say', () => {
    expect(isLocked(ingridsCase(), record({ locked: true }), DURING_HOURS, BERLIN)).toBe(true);
    expect(isLocked(ingridsCase(), record({ locked: true, openHours: TUE_THU_AFTERNOONS }), DURING_HOURS, BERLIN)).toBe(true);
  });

  test('a suspended case, or one that is over, is read-only', () => {
    expect(isLocked(ingridsCase({ status: 'suspended' }), record(), DURING_HOURS, BERLIN)).toBe(true);
    expect(isLocked(ingridsCase({ status: 'inactive' }), record(), DURING_HOURS, BERLIN)).toBe(true);
    expect(isLocked(ingridsCase({ status: 'proposed' }), record(), DURING_HOURS, BERLIN)).toBe(false);
  });

  test("with open hours set, the room is open during them on Berlin's clock and locked outside them", () => {
    const withHours = record({ openHours: TUE_THU_AFTERNOONS });
    expect(isLocked(ingridsCase(), withHours, DURING_HOURS, BERLIN)).toBe(false);
    // 17:30 in Berlin, though 15:30 UTC would be inside the hours on a UTC clock.
    expect(isLocked(ingridsCase(), withHours, AFTER_HOURS, BERLIN)).toBe(true);
    // Wednesday at the same time of day: not one of the days.
    expect(isLocked(ingridsCase(), withHours, new Date('2026-04-01T13:30:00Z'), BERLIN)).toBe(true);
  });

  test('the hours open on the minute they start and close on the minute they end', () => {
    const withHours = record({ openHours: TUE_THU_AFTERNOONS });
    expect(isLocked(ingridsCase(), withHours, new Date('2026-03-31T12:59:59Z'), BERLIN)).toBe(true);
    expect(isLocked(ingridsCase(), withHours, new Date('2026-03-31T13:00:00Z'), BERLIN)).toBe(false);
    expect(isLocked(ingridsCase(), withHours, new Date('2026-03-31T13:59:59Z'), BERLIN)).toBe(false);
    expect(isLocked(ingridsCase(), withHours, new Date('2026-03-31T14:00:00Z'), BERLIN)).toBe(true);
  });

  test('open hours do not open a suspended case', () => {
    expect(isLocked(ingridsCase({ status: 'suspended' }), record({ openHours: TUE_THU_AFTERNOONS }), DURING_HOURS, BERLIN)).toBe(true);
  });
});
