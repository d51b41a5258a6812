import type { CareTeam, Organization, Patient } from 'fhir/r4.js';
import { casePowerLevels, isOpenAt, type CaseRoomPlan } from '@carehub/matrix-bridge';
import { humanNameText } from '../fhir/human-name.js';
import { parseReference } from '../fhir/references.js';
import type { Queryable } from '../store/database.js';
import { findResource } from '../store/resource-store.js';
import { activeCaseParticipants, isActiveParticipant, type CaseParticipant } from './case-participants.js';
import type { CaseRoomRecord } from './case-room-record.js';

/** A case that is over, or was recorded in error: its room is read-only. */
const isClosed = (careTeam: CareTeam) => careTeam.status === 'inactive' || careTeam.status === 'entered-in-error';

/** Only the bot writes in the room of a closed case. */
const CLOSED_ROOM_LEVEL = 100;

/** Who is in a case's room, and who moderates it: worked out from the CareTeam. */
export interface CaseMembers {
  participants: CaseParticipant[];
  /** The Matrix users of every active participant, less those whose own role's participation ended. */
  members: string[];
  moderators: string[];
  /** Members from the network's organisations (not guests): they may write when everyone else is muted. */
  staff: string[];
}

/**
 * A member reached through an Organization or HealthcareService who left (or was removed)
 * has their own PractitionerRole's participation ended in the CareTeam; they stay out, though
 * their organisation still takes part, until they are added again.
 */
function endedRoles(careTeam: CareTeam, at: Date): Set<string> {
  const active = new Set((careTeam.participant ?? []).filter((p) => isActiveParticipant(p, at)).map((p) => p.member?.reference));
  return new Set(
    (careTeam.participant ?? [])
      .filter((p) => p.period?.end && !isActiveParticipant(p, at) && p.member?.reference?.startsWith('PractitionerRole/') && !active.has(p.member.reference))
      .map((p) => p.member!.reference!),
  );
}

export async function caseMembers(db: Queryable, careTeam: CareTeam, at: Date): Promise<CaseMembers> {
  const participants = await activeCaseParticipants(db, careTeam, at);
  const excluded = new Set<string>();
  for (const role of endedRoles(careTeam, at)) {
    for (const user of (await activeCaseParticipants(db, { resourceType: 'CareTeam', participant: [{ member: { reference: role } }] }, at))[0]?.users ?? []) excluded.add(user);
  }
  const usersOf = (wanted: (p: CaseParticipant) => boolean) => [...new Set(participants.filter(wanted).flatMap((p) => p.users))].filter((u) => !excluded.has(u)).sort();
  return {
    participants,
    members: usersOf(() => true),
    moderators: usersOf((p) => p.role === 'moderator'),
    staff: usersOf((p) => p.role !== 'guest'),
  };
}

/** The case number integrators and counsellors quote: the CareTeam's first identifier, or its id. */
export function caseNumberOf(careTeam: CareTeam & { id: string }): string {
  return careTeam.identifier?.find((identifier) => identifier.value)?.value ?? careTeam.id;
}

/**
 * The room's name, which Matrix does not encrypt: the case number and the service (the case's
 * category), never who the case is about.
 */
export function caseRoomName(careTeam: CareTeam & { id: string }): string {
  const category = careTeam.category?.[0];
  const service = category?.text ?? category?.coding?.find((coding) => coding.display)?.display ?? 'Care case';
  return `Case ${caseNumberOf(careTeam)} · ${service}`;
}

/** Whether the room is read-only now: locked by a moderator, outside its open hours, or the case suspended or over. */
export function isLocked(careTeam: CareTeam, record: CaseRoomRecord, at: Date, timeZone: string): boolean {
  if (record.locked || careTeam.status === 'suspended' || isClosed(careTeam)) return true;
  return record.openHours !== undefined && !isOpenAt(record.openHours, at, timeZone);
}

/** Users muted at `at` (a timed mute that has run out no longer counts). */
export function mutedAt(record: CaseRoomRecord, at: Date): string[] {
  return Object.entries(record.muted)
    .filter(([, until]) => until === null || new Date(until) > at)
    .map(([user]) => user)
    .sort();
}

/** The pinned summary: who the case is about and why, said only inside the encrypted room. */
async function caseSummary(db: Queryable, careTeam: CareTeam & { id: string }): Promise<CaseRoomPlan['summary']> {
  const patientRef = parseReference(careTeam.subject);
  const patient = patientRef?.type === 'Patient' ? await findResource<Patient>(db, 'Patient', patientRef.id) : undefined;
  const managingRef = parseReference(careTeam.managingOrganization?.[0]);
  const office = managingRef?.type === 'Organization' ? await findResource<Organization>(db, 'Organization', managingRef.id) : undefined;
  const name = humanNameText(patient?.name);
  const reason = careTeam.reasonCode?.map((code) => code.text ?? code.coding?.[0]?.display).filter(Boolean).join('; ');
  const lines = [
    `📌 Case ${caseNumberOf(careTeam)}`,
    `About: ${name ?? 'the person named in the case'}${patient?.birthDate ? ` (born ${patient.birthDate})` : ''}`,
    ...(reason ? [`Reason: ${reason}`] : []),
    ...(office?.name ? [`Run by: ${office.name}`] : []),
    'Type "!help" for what moderators and members can do here.',
  ];
  return { body: lines.join('\n') };
}

/** What the case's room should look like now: members, power levels (moderation), name and summary. */
export async function planCaseRoom(db: Queryable, careTeam: CareTeam & { id: string }, record: CaseRoomRecord, botUserId: string, at: Date, timeZone: string): Promise<CaseRoomPlan & { who: CaseMembers }> {
  const who = await caseMembers(db, careTeam, at);
  const powerLevels = casePowerLevels(botUserId, {
    moderators: who.moderators,
    staff: who.staff,
    muted: mutedAt(record, at).filter((user) => who.members.includes(user)),
    locked: isLocked(careTeam, record, at, timeZone),
    mutedAllButStaff: record.mutedAll,
  });
  // A closed case is read-only for everyone, moderators too: what was said is the transcript.
  if (isClosed(careTeam)) powerLevels.events_default = CLOSED_ROOM_LEVEL;
  return { name: caseRoomName(careTeam), members: who.members, powerLevels, summary: await caseSummary(db, careTeam), who };
}
