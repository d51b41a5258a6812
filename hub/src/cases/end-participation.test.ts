import type { CareTeam, CareTeamParticipant } from 'fhir/r4.js';
import { withParticipationEnded } from './end-participation.js';

const NOW = new Date('2025-06-15T10:00:00.000Z');

const COUNSELLOR = 'PractitionerRole/counsellor-1';
const GP = 'PractitionerRole/gp-1';
const HOME_CARE = 'HealthcareService/home-care-nursing';
const OLD_GP = 'PractitionerRole/gp-retired';

const taking = (member: string, period?: CareTeamParticipant['period']): CareTeamParticipant => ({ member: { reference: member }, ...(period ? { period } : {}) });

/** Anna's case: her counsellor, her GP (since June), home care, and a GP who left in May. */
const annasCase = (): CareTeam & { id: string } => ({
  resourceType: 'CareTeam',
  id: 'anna-case',
  status: 'active',
  subject: { reference: 'Patient/anna' },
  participant: [
    taking(COUNSELLOR),
    taking(GP, { start: '2025-06-01T08:00:00Z' }),
    taking(HOME_CARE, { start: '2025-06-01' }),
    taking(OLD_GP, { start: '2025-01-01', end: '2025-05-01T00:00:00Z' }),
  ],
});

describe("Anna's Consent no longer covers her GP's practice, so the hub ends the GP's part in her case", () => {
  test("the GP's participation ends now; when it began is kept", () => {
    const ended = withParticipationEnded(annasCase(), new Set([GP]), NOW);
    expect(ended.participant?.[1]).toEqual({ member: { reference: GP }, period: { start: '2025-06-01T08:00:00Z', end: '2025-06-15T10:00:00.000Z' } });
  });

  test('a participant who had no period gets one that ends now', () => {
    const ended = withParticipationEnded(annasCase(), new Set([COUNSELLOR]), NOW);
    expect(ended.participant?.[0]).toEqual({ member: { reference: COUNSELLOR }, period: { end: NOW.toISOString() } });
  });

  test('everyone else in the case is left as they were, in the same order, and the rest of the CareTeam too', () => {
    const before = annasCase();
    const ended = withParticipationEnded(before, new Set([GP]), NOW);
    expect(ended).toEqual({ ...before, participant: [before.participant![0], { ...before.participant![1], period: { start: '2025-06-01T08:00:00Z', end: NOW.toISOString() } }, before.participant![2], before.participant![3]] });
    // The CareTeam it was given is not changed: the writer compares the two versions.
    expect(before).toEqual(annasCase());
  });

  test('a participant whose part already ended keeps the end it had', () => {
    const ended = withParticipationEnded(annasCase(), new Set([OLD_GP]), NOW);
    expect(ended.participant?.[3]).toEqual(taking(OLD_GP, { start: '2025-01-01', end: '2025-05-01T00:00:00Z' }));
  });

  test('a participant who has not begun yet is not ended before they start', () => {
    const careTeam = { ...annasCase(), participant: [taking(GP, { start: '2025-07-01' })] };
    expect(withParticipationEnded(careTeam, new Set([GP]), NOW).participant).toEqual([taking(GP, { start: '2025-07-01' })]);
  });

  test('naming no one, or someone not in the case, changes nothing; a case without participants stays without', () => {
    expect(withParticipationEnded(annasCase(), new Set(), NOW)).toEqual(annasCase());
    expect(withParticipationEnded(annasCase(), new Set(['PractitionerRole/stranger']), NOW)).toEqual(annasCase());
    const empty: CareTeam = { resourceType: 'CareTeam', status: 'proposed' };
    expect(withParticipationEnded(empty, new Set([GP]), NOW).participant).toBeUndefined();
  });

  test('a participant recorded without a member reference is never ended', () => {
    const careTeam: CareTeam = { resourceType: 'CareTeam', participant: [{ member: { display: 'Dr Jensen' } }, taking(GP)] };
    expect(withParticipationEnded(careTeam, new Set([GP]), NOW).participant).toEqual([{ member: { display: 'Dr Jensen' } }, taking(GP, { end: NOW.toISOString() })]);
  });
});
