import type { CareTeamParticipant, Coding } from 'fhir/r4.js';
import { carehubCodeSystemUrl } from '@carehub/fhir-profiles';

/** What a member may do in a case room (fhir-profiles/terminology/case-role.codesystem.json). */
export type CaseRole = 'moderator' | 'participant' | 'guest';

export const CASE_ROLE_SYSTEM = carehubCodeSystemUrl('case-role');

/** The codings the hub writes in CareTeam.participant.role, displays as in the CodeSystem. */
export const CASE_ROLE: Record<CaseRole, Coding> = {
  moderator: { system: CASE_ROLE_SYSTEM, code: 'moderator', display: 'Moderator: runs the case room' },
  participant: { system: CASE_ROLE_SYSTEM, code: 'participant', display: 'Participant' },
  guest: { system: CASE_ROLE_SYSTEM, code: 'guest', display: 'Guest: a relative or the person themself, invited by link' },
};

// Least powerful first: a member recorded with two case roles (a slip in an integrator's
// CareTeam) gets the lesser, so a guest invited by link can never end up moderating the room.
const LEAST_POWERFUL_FIRST: readonly CaseRole[] = ['guest', 'participant', 'moderator'];

/**
 * The case role of a CareTeam member: the CareHub case-role coding in its role, if any.
 * Roles from other systems (a SNOMED CT job title, say) say who someone is, not what they may
 * do in the room, so they are not read; a member with no case role takes part as a participant.
 */
export function roleOf(participant: CareTeamParticipant): CaseRole {
  const codes = new Set(
    (participant.role ?? []).flatMap((role) => role.coding ?? []).filter((coding) => coding.system === CASE_ROLE_SYSTEM).map((coding) => coding.code),
  );
  return LEAST_POWERFUL_FIRST.find((role) => codes.has(role)) ?? 'participant';
}
