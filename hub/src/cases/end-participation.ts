import type { CareTeam } from 'fhir/r4.js';
import { rolesOfMatrixUser } from '../routing/roles-of-matrix-user.js';
import type { Queryable } from '../store/database.js';
import { activeCaseParticipants, isActiveParticipant, isGuestMember } from './case-participants.js';

/** The CareTeam with the participation of these members (references) ended at `at` (participant.period.end). */
export function withParticipationEnded<C extends CareTeam>(careTeam: C, members: ReadonlySet<string>, at: Date): C {
  return {
    ...careTeam,
    participant: careTeam.participant?.map((participant) =>
      participant.member?.reference && members.has(participant.member.reference) && isActiveParticipant(participant, at)
        ? { ...participant, period: { ...participant.period, end: at.toISOString() } }
        : participant,
    ),
  };
}

/**
 * The CareTeam after a Matrix user left the case's room (or a moderator removed them there):
 * a participant that is their own PractitionerRole ends; one who took part through an
 * Organization or HealthcareService gets their role recorded as a participant whose period has
 * ended, so they stay out while their organisation stays in. Undefined: the user was no
 * participant, nothing to record.
 */
export async function endParticipationOfUser<C extends CareTeam>(db: Queryable, careTeam: C, userId: string, at: Date): Promise<C | undefined> {
  const reaching = (await activeCaseParticipants(db, careTeam, at)).filter((p) => p.users.includes(userId));
  if (reaching.length === 0) return undefined;
  // Their own seat: a PractitionerRole only they are reached through, or a guest's.
  const ownRoles = new Set(reaching.filter((p) => (p.member.startsWith('PractitionerRole/') || isGuestMember(p.member)) && p.users.length === 1).map((p) => p.member));
  if (ownRoles.size > 0) return withParticipationEnded(careTeam, ownRoles, at);
  const roles = await rolesOfMatrixUser(db, userId);
  if (roles.length === 0) return undefined;
  return {
    ...careTeam,
    participant: [...(careTeam.participant ?? []), ...roles.map((role) => ({ member: { reference: `PractitionerRole/${role.id}` }, period: { end: at.toISOString() } }))],
  };
}
