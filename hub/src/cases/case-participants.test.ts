import type { CareTeamParticipant, Period } from 'fhir/r4.js';
import { isActiveParticipant } from './case-participants.js';

const gp = (period?: Period): CareTeamParticipant => ({ member: { reference: 'PractitionerRole/gp-1' }, ...(period ? { period } : {}) });
const at = (iso: string) => new Date(iso);

describe("a GP's part in a case lasts for the period recorded in the CareTeam", () => {
  test('a GP recorded without a period, or with an empty one, takes part from the start and for as long as the case runs', () => {
    expect(isActiveParticipant(gp(), at('2025-06-15T10:00:00Z'))).toBe(true);
    expect(isActiveParticipant(gp({}), at('1990-01-01T00:00:00Z'))).toBe(true);
  });

  test('a GP added from 1 July takes part from that instant on, not a millisecond before', () => {
    const fromJuly = gp({ start: '2025-07-01T00:00:00Z' });
    expect(isActiveParticipant(fromJuly, at('2025-06-30T23:59:59.999Z'))).toBe(false);
    expect(isActiveParticipant(fromJuly, at('2025-07-01T00:00:00Z'))).toBe(true);
    expect(isActiveParticipant(fromJuly, at('2026-01-01T00:00:00Z'))).toBe(true);
  });

  test('a start written as a date begins at that day’s first moment (UTC)', () => {
    expect(isActiveParticipant(gp({ start: '2025-07-01' }), at('2025-06-30T23:59:59Z'))).toBe(false);
    expect(isActiveParticipant(gp({ start: '2025-07-01' }), at('2025-07-01T00:00:00Z'))).toBe(true);
  });

  test('a GP whose participation the hub ended at an instant takes part up to that instant and not after', () => {
    // The hub writes period.end = the moment it ends someone's part (withParticipationEnded),
    // to the millisecond; R4 Period.end includes what it names, so that millisecond still counts.
    const ended = gp({ start: '2025-06-01', end: '2025-06-15T10:00:00.000Z' });
    expect(isActiveParticipant(ended, at('2025-06-15T10:00:00.000Z'))).toBe(true);
    expect(isActiveParticipant(ended, at('2025-06-15T10:00:00.001Z'))).toBe(false);
    expect(isActiveParticipant(ended, at('2025-07-01T00:00:00Z'))).toBe(false);
  });

  test('a GP whose part ended, with no start recorded, took part until then (an end to the second holds that second)', () => {
    expect(isActiveParticipant(gp({ end: '2025-06-15T10:00:00Z' }), at('2020-01-01T00:00:00Z'))).toBe(true);
    expect(isActiveParticipant(gp({ end: '2025-06-15T10:00:00Z' }), at('2025-06-15T10:00:00.999Z'))).toBe(true);
    expect(isActiveParticipant(gp({ end: '2025-06-15T10:00:00Z' }), at('2025-06-15T10:00:01Z'))).toBe(false);
  });

  test('a period written in another zone is read at its instant', () => {
    const berlin = gp({ start: '2025-07-01T09:00:00+02:00' });
    expect(isActiveParticipant(berlin, at('2025-07-01T06:59:59Z'))).toBe(false);
    expect(isActiveParticipant(berlin, at('2025-07-01T07:00:00Z'))).toBe(true);
  });

  // FHIR R4 Period.end: "The high value includes any matching date/time": until 30 June means all of 30 June.
  test('a GP recorded until 30 June (a date) still takes part on 30 June, and not on 1 July', () => {
    const untilJune = gp({ start: '2025-06-01', end: '2025-06-30' });
    expect(isActiveParticipant(untilJune, at('2025-06-30T12:00:00Z'))).toBe(true);
    expect(isActiveParticipant(untilJune, at('2025-07-01T00:00:00Z'))).toBe(false);
  });
});
