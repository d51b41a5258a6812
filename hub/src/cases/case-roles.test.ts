import type { CareTeamParticipant, Coding } from 'fhir/r4.js';
import { CASE_ROLE, CASE_ROLE_SYSTEM, roleOf } from './case-roles.js';

const member = (...codes: Coding[]): CareTeamParticipant => ({ member: { reference: 'PractitionerRole/gp-1' }, role: [{ coding: codes }] });

test('the counsellor who opens a case moderates it; a daughter invited by link is a guest', () => {
  expect(roleOf(member(CASE_ROLE.moderator))).toBe('moderator');
  expect(roleOf({ member: { reference: 'RelatedPerson/daughter' }, role: [{ coding: [CASE_ROLE.guest] }] })).toBe('guest');
});

test('a member without a case role takes part as a participant; job titles from other systems are not read', () => {
  expect(roleOf({ member: { reference: 'PractitionerRole/gp-1' } })).toBe('participant');
  expect(roleOf(member({ system: 'http://snomed.info/sct', code: '62247001' }))).toBe('participant');
  expect(roleOf(member({ system: CASE_ROLE_SYSTEM, code: 'admin' }))).toBe('participant');
});

test('a member recorded with two case roles gets the lesser, so a guest never moderates', () => {
  expect(roleOf(member(CASE_ROLE.moderator, CASE_ROLE.guest))).toBe('guest');
});
