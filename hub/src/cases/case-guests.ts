import type { CareTeam, Patient, RelatedPerson } from 'fhir/r4.js';
import { BOT_MESSAGES, formatLocalTime, type CaseCommand } from '@carehub/matrix-bridge';
import type { CareHubConfig } from '../config/config-schema.js';
import { stampOwner } from '../auth/ownership.js';
import { humanNameText } from '../fhir/human-name.js';
import { FhirError } from '../fhir/operation-outcome.js';
import { parseReference } from '../fhir/references.js';
import { createResource, updateResource } from '../fhir/resource-writer.js';
import { rolesOfMatrixUser } from '../routing/roles-of-matrix-user.js';
import type { Queryable } from '../store/database.js';
import { addOutboxRow } from '../store/outbox.js';
import { findResource, readResourceForUpdate } from '../store/resource-store.js';
import { actorFor } from '../workflow/room-actor.js';
import type { WriteContext } from '../workflow/write-context.js';
import { attemptWrite } from './attempt-write.js';
import { BY_CAREHUB, recordCaseStep } from './case-audit.js';
import { addCaseGuest, guestsOfCase, markGuestEnded, type CaseGuest } from './case-guest-record.js';
import { isActiveParticipant } from './case-participants.js';
import { CASE_ROLE } from './case-roles.js';
import { directChatOfUser } from './direct-chat-record.js';
import { withParticipationEnded } from './end-participation.js';

const HOUR_MS = 3_600_000;

/** What guests need from the configuration. */
export type GuestSettings = Pick<CareHubConfig['cases'], 'guestLinkHours' | 'guestAccessDays' | 'timeZone'> & { canMakeAccounts: boolean };

/** Whom a moderator's words in the room and the bot's answers mean: "Anna Nielsen (daughter)". */
export async function guestLabel(db: Queryable, member: string): Promise<string> {
  const target = parseReference({ reference: member });
  if (!target) return member;
  if (target.type === 'Patient') return `${humanNameText((await findResource<Patient>(db, 'Patient', target.id))?.name) ?? 'the person'} (the person)`;
  const relative = await findResource<RelatedPerson>(db, 'RelatedPerson', target.id);
  const relationship = relative?.relationship?.[0]?.text;
  return `${humanNameText(relative?.name) ?? 'a relative'}${relationship ? ` (${relationship})` : ''}`;
}

/** The RelatedPerson or Patient a guest's Matrix account is, or undefined for anyone who is no guest of a case. */
export async function guestMemberOf(db: Queryable, userId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ member: string }>('SELECT member FROM case_guests WHERE user_id = $1', [userId]);
  return rows[0]?.member;
}

/** The name of a guest's Matrix account in the bot's answers, or undefined for anyone who is no guest of a case. */
export async function guestNameOf(db: Queryable, userId: string): Promise<string | undefined> {
  const member = await guestMemberOf(db, userId);
  return member ? guestLabel(db, member) : undefined;
}

/** How a moderator's guest command is answered: the text, and whether it went as asked. */
export interface GuestAnswer {
  text: string;
  status: 'success' | 'error';
}
const refusal = (text: string): GuestAnswer => ({ text, status: 'error' });

/**
 * "!guest …": a relative (a new RelatedPerson of the person) or the person themself becomes a
 * participant with the guest role until their access ends, written through the one write path,
 * so the case's Consent is checked as for any member; the link goes to the moderator's direct
 * chat (`case.guest-link`), how they were identified is kept with the invitation, and the step
 * is recorded. In the command's transaction.
 */
export async function inviteGuest(
  writes: WriteContext,
  client: Queryable,
  careTeam: CareTeam & { id: string },
  moderator: string,
  command: Extract<CaseCommand, { kind: 'guest' }>,
  settings: GuestSettings,
  at: Date,
): Promise<GuestAnswer> {
  if (!settings.canMakeAccounts) return refusal(BOT_MESSAGES.case.guest.notConfigured);
  if (careTeam.status !== 'active' && careTeam.status !== 'proposed') return refusal(BOT_MESSAGES.case.guest.caseNotOpen);
  // The secret link goes to the moderator's direct chat with the bot, never the case room.
  const linkRoomId = await directChatOfUser(client, moderator);
  if (!linkRoomId) return refusal(BOT_MESSAGES.case.guest.needsDirectChat);
  const person = careTeam.subject?.reference;
  const organization = (await rolesOfMatrixUser(client, moderator))[0]?.organization?.reference;
  if (!person?.startsWith('Patient/') || !organization) return refusal(BOT_MESSAGES.case.guest.caseNotOpen);
  const accessEndsAt = new Date(at.getTime() + settings.guestAccessDays * 24 * HOUR_MS);
  const linkExpiresAt = new Date(Math.min(at.getTime() + settings.guestLinkHours * HOUR_MS, accessEndsAt.getTime()));
  const writer = { organization, roles: [] };

  const added = await attemptWrite(client, async () => {
    const member = command.self
      ? person
      : `RelatedPerson/${
          (
            await createResource<RelatedPerson>(
              writes,
              client,
              stampOwner({ resourceType: 'RelatedPerson', active: true, patient: { reference: person }, name: [{ text: command.name }], ...(command.relationship ? { relationship: [{ text: command.relationship }] } : {}) }, writer),
            )
          ).id
        }`;
    const current = await readResourceForUpdate<CareTeam & { id: string }>(client, 'CareTeam', careTeam.id);
    await updateResource(writes, client, {
      ...current,
      participant: [...(current.participant ?? []), { role: [{ coding: [CASE_ROLE.guest] }], member: { reference: member }, period: { start: at.toISOString(), end: accessEndsAt.toISOString() } }],
    });
    return member;
  });
  if (added instanceof FhirError) return refusal(BOT_MESSAGES.case.guest.refused(added.message));
  const guest = await addCaseGuest(client, { careTeamId: careTeam.id, member: added, identifiedBy: command.identifiedBy, invitedBy: moderator, linkRoomId, linkExpiresAt, accessEndsAt });
  await addOutboxRow(client, 'case.guest-link', { guestId: guest.id });
  await recordCaseStep(client, { careTeamId: careTeam.id, step: 'guest-invited', by: moderator, reason: `${added} identified by: ${command.identifiedBy}` });
  const who = await guestLabel(client, added);
  return { text: BOT_MESSAGES.case.guest.invited(who, await moderatorName(client, moderator), formatLocalTime(linkExpiresAt, settings.timeZone), formatLocalTime(accessEndsAt, settings.timeZone)), status: 'success' };
}

const moderatorName = async (db: Queryable, userId: string) => (await actorFor(db, userId)).name;

/**
 * Ends a guest's link or access at `at`: their participation ends in the CareTeam (which takes
 * them out of the room), the link stops working, their account is deactivated
 * (`case.guest-end`), and the step is recorded. In the caller's transaction.
 */
export async function endGuest(writes: WriteContext, client: Queryable, careTeamId: string, guest: CaseGuest, state: 'ended' | 'expired', by: string, at: Date): Promise<void> {
  await markGuestEnded(client, guest.id, state, at);
  const current = await readResourceForUpdate<CareTeam & { id: string }>(client, 'CareTeam', careTeamId);
  const seat = current.participant?.find((p) => p.member?.reference === guest.member && isActiveParticipant(p, at));
  // Another invitation of the same person (a new link after this one) keeps the seat.
  const others = (await guestsOfCase(client, careTeamId)).filter((g) => g.id !== guest.id && g.member === guest.member && (g.state === 'issued' || g.state === 'joined'));
  if (seat && others.length === 0) await updateResource(writes, client, withParticipationEnded(current, new Set([guest.member]), at));
  if (guest.userId) await addOutboxRow(client, 'case.guest-end', { guestId: guest.id });
  await recordCaseStep(client, { careTeamId, step: state === 'expired' ? 'guest-link-expired' : 'guest-ended', by, ...(guest.userId ? { members: [guest.userId] } : {}), reason: guest.member });
}

/** "!guest end <name or @user>": the open guests it means (by account, or by the name they were invited by). */
export async function guestsMeant(client: Queryable, careTeamId: string, who: string): Promise<CaseGuest[]> {
  const wanted = who.trim().toLowerCase().replace(/\s+/g, ' ');
  const open = (await guestsOfCase(client, careTeamId)).filter((g) => g.state === 'issued' || g.state === 'joined');
  const meant: CaseGuest[] = [];
  for (const guest of open) {
    const label = (await guestLabel(client, guest.member)).toLowerCase();
    if (guest.userId?.toLowerCase() === wanted || label === wanted || label.startsWith(`${wanted} (`)) meant.push(guest);
  }
  return meant;
}

/** "!guests": each guest, the state of their link or access, and until when. */
export async function guestLines(client: Queryable, careTeamId: string, timeZone: string): Promise<string[]> {
  const lines: string[] = [];
  for (const guest of await guestsOfCase(client, careTeamId)) {
    const who = await guestLabel(client, guest.member);
    const state = {
      issued: `link not used yet, works until ${formatLocalTime(guest.linkExpiresAt, timeZone)}`,
      joined: `joined as ${guest.userId}, access until ${formatLocalTime(guest.accessEndsAt, timeZone)}`,
      ended: 'access ended',
      expired: 'link expired unused',
    }[guest.state];
    lines.push(`${who}: ${state}; identified by ${guest.identifiedBy}`);
  }
  return lines;
}

/**
 * The case clock's look at a case's guests: a link not used in time expires, an access whose
 * time is up ends, and so does a guest who is no longer a participant (a moderator removed
 * them, they left, the Consent stopped covering them, the case closed), so no account outlives
 * its seat. Returns the room's notices to send.
 */
export async function sweepGuests(writes: WriteContext, client: Queryable, careTeam: CareTeam & { id: string }, at: Date): Promise<string[]> {
  const notices: string[] = [];
  const closed = careTeam.status === 'inactive' || careTeam.status === 'entered-in-error';
  for (const guest of await guestsOfCase(client, careTeam.id, true)) {
    if (guest.state !== 'issued' && guest.state !== 'joined') continue;
    const seated = careTeam.participant?.some((p) => p.member?.reference === guest.member && isActiveParticipant(p, at));
    const expired = guest.state === 'issued' && guest.linkExpiresAt <= at;
    if (expired || guest.accessEndsAt <= at || !seated || closed) {
      await endGuest(writes, client, careTeam.id, guest, expired ? 'expired' : 'ended', BY_CAREHUB, at);
      const who = await guestLabel(client, guest.member);
      if (!closed) notices.push(expired ? BOT_MESSAGES.case.guest.linkExpired(who) : BOT_MESSAGES.case.guest.ended(who));
    }
  }
  return notices;
}
