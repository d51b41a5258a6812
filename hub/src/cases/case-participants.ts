import type { CareTeam, CareTeamParticipant, HealthcareService, PractitionerRole, RelatedPerson } from 'fhir/r4.js';
import { periodContains } from '../fhir/fhir-period.js';
import { parseReference } from '../fhir/references.js';
import { resolveMatrixRecipients } from '../routing/resolve-matrix-recipients.js';
import type { Queryable } from '../store/database.js';
import { findResource } from '../store/resource-store.js';
import { joinedGuestUsers } from './case-guest-record.js';
import { roleOf, type CaseRole } from './case-roles.js';
import type { ParticipantOrganization } from './consent-coverage.js';

/** A CareTeam participant as the case room sees it: who, whose staff, what they may do, and their Matrix users. */
export interface CaseParticipant {
  /** Its place in CareTeam.participant. */
  index: number;
  /** The member reference ("PractitionerRole/…", "Organization/…", "HealthcareService/…"). */
  member: string;
  organization: string | undefined;
  role: CaseRole;
  /** A guest's: the Patient they are or are a relative of (what their Consent coverage rests on). */
  person?: string | undefined;
  /** Everyone the member reaches with a Matrix endpoint (an Organization: all its members). */
  users: string[];
}

/** A guest's seat in a case: a relative (RelatedPerson) or the person themself (Patient), reached by the account their link made. */
export const isGuestMember = (member: string): boolean => member.startsWith('RelatedPerson/') || member.startsWith('Patient/');

/** Whether a participant takes part at `at`: within its period (FHIR R4 Period: an absent end is ongoing, an end date includes that day). */
export function isActiveParticipant(participant: CareTeamParticipant, at: Date): boolean {
  return periodContains(participant.period, at);
}

/** The organisation whose staff a member is: a role's organisation, a service's provider, an Organization itself. */
export async function organizationOfMember(db: Queryable, member: string | undefined): Promise<string | undefined> {
  const target = parseReference({ reference: member });
  if (!target) return undefined;
  switch (target.type) {
    case 'Organization':
      return `Organization/${target.id}`;
    case 'PractitionerRole':
      return (await findResource<PractitionerRole>(db, target.type, target.id))?.organization?.reference;
    case 'HealthcareService':
      return (await findResource<HealthcareService>(db, target.type, target.id))?.providedBy?.reference;
    default:
      return undefined;
  }
}

/** The Patient a guest is, or is a relative of: "Patient/…". */
async function personOfGuest(db: Queryable, member: string): Promise<string | undefined> {
  if (member.startsWith('Patient/')) return member;
  const target = parseReference({ reference: member });
  return target ? (await findResource<RelatedPerson>(db, 'RelatedPerson', target.id))?.patient?.reference : undefined;
}

/** The participants taking part at `at`, each with its organisation and Matrix users. */
export async function activeCaseParticipants(db: Queryable, careTeam: CareTeam, at: Date): Promise<CaseParticipant[]> {
  const participants: CaseParticipant[] = [];
  for (const [index, participant] of (careTeam.participant ?? []).entries()) {
    const member = participant.member?.reference;
    if (!member || !isActiveParticipant(participant, at)) continue;
    participants.push({
      index,
      member,
      organization: await organizationOfMember(db, member),
      role: roleOf(participant),
      ...(isGuestMember(member) ? { person: await personOfGuest(db, member) } : {}),
      users: isGuestMember(member) ? (careTeam.id ? await joinedGuestUsers(db, careTeam.id, member) : []) : await resolveMatrixRecipients(db, participant.member),
    });
  }
  return participants;
}

/**
 * The participants that are new in this version (not active in `previous` under the same
 * member): they are the ones a Consent has to cover now. A participant the hub ends (a member
 * left, the Consent was narrowed) is no new one, so ending never needs the Consent it lost.
 */
export async function newParticipants(db: Queryable, careTeam: CareTeam, previous: CareTeam | undefined, at: Date): Promise<ParticipantOrganization[]> {
  const before = new Set((previous?.participant ?? []).filter((p) => isActiveParticipant(p, at)).map((p) => p.member?.reference));
  const added: ParticipantOrganization[] = [];
  for (const participant of careTeam.participant ?? []) {
    const member = participant.member?.reference;
    if (!member || !isActiveParticipant(participant, at) || before.has(member)) continue;
    added.push({ participant: member, organization: await organizationOfMember(db, member), ...(isGuestMember(member) ? { person: await personOfGuest(db, member) } : {}) });
  }
  return added;
}
