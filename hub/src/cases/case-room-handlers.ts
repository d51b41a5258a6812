import type { CareTeam } from 'fhir/r4.js';
import { BOT_MESSAGES, formatLocalTime, formatOpenHours, moderationOfPowerLevels, type CaseCommand, type CaseRoomEvent, type CaseRoomHandlers, type CaseRooms } from '@carehub/matrix-bridge';
import type { Logger } from 'pino';
import { createResource, updateResource } from '../fhir/resource-writer.js';
import { conversationOf, keepsConversation } from './case-conversation.js';
import { inTransaction, type Database, type Queryable } from '../store/database.js';
import { addOutboxRow, type RoomNotice } from '../store/outbox.js';
import { readResourceForUpdate } from '../store/resource-store.js';
import { firstTimeSeen } from '../workflow/inbound-events.js';
import { actorFor } from '../workflow/room-actor.js';
import type { WriteContext } from '../workflow/write-context.js';
import { recordCaseStep, type CaseStep } from './case-audit.js';
import { caseMembers, isLocked, type CaseMembers } from './case-room-plan.js';
import { careTeamOfRoom, readCaseRoom, saveModeration, type CaseRoomRecord } from './case-room-record.js';
import { endParticipationOfUser } from './end-participation.js';
import { answerMeeting } from './answer-meeting.js';
import { attemptWrite } from './attempt-write.js';
import { referFromMatrix } from './refer-from-matrix.js';
import { FhirError } from '../fhir/operation-outcome.js';
import { rolesOfMatrixUser } from '../routing/roles-of-matrix-user.js';
import { endGuest, guestLines, guestMemberOf, guestNameOf, guestsMeant, inviteGuest, type GuestSettings } from './case-guests.js';

export interface CaseHandlerDeps {
  db: Database;
  writes: WriteContext;
  caseRooms: CaseRooms;
  botUserId: string;
  timeZone: string;
  guests: GuestSettings;
  logger: Logger;
}

/** What a handler works with, in the event's transaction. */
interface CaseAtHand {
  client: Queryable;
  careTeam: CareTeam & { id: string };
  record: CaseRoomRecord;
  who: CaseMembers;
  /** Sends the bot's answer into the room (an outbox row, so it survives a crash). */
  say(text: string, status?: RoomNotice['status']): Promise<void>;
  step(step: CaseStep, members?: string[], reason?: string): Promise<void>;
  /** The room follows the record and the CareTeam: a `case.settle` row. */
  settle(): Promise<void>;
}

type ModeratorCommand = Exclude<CaseCommand['kind'], 'help' | 'refused-syntax' | 'refer'>;

/**
 * What the hub does with what members do in a case room: moderators' commands, members leaving
 * or being removed from their own client, and moderation done in Element (power levels). Each
 * event is acted on once (by its event id), in one transaction with what it changes (the
 * CareTeam, the case's moderation record, an AuditEvent, the bot's answer); the room follows
 * through a `case.settle` row.
 */
export function caseRoomHandlers(deps: CaseHandlerDeps): CaseRoomHandlers {
  const { db, writes, caseRooms, timeZone, logger } = deps;

  /** Runs `work` for a case room's event once, with the case at hand; events of rooms the hub does not know are left. */
  const onCase = async (event: CaseRoomEvent, work: (hand: CaseAtHand) => Promise<(() => Promise<void>) | void>) => {
    const afterCommit = await inTransaction(db, async (client) => {
      const careTeamId = await careTeamOfRoom(client, event.roomId);
      if (!careTeamId || !(await firstTimeSeen(client, event, event.happening.kind))) return undefined;
      const careTeam = await readResourceForUpdate<CareTeam & { id: string }>(client, 'CareTeam', careTeamId);
      const record = await readCaseRoom(client, careTeamId, true);
      const who = await caseMembers(client, careTeam, new Date());
      const hand: CaseAtHand = {
        client,
        careTeam,
        record,
        who,
        say: async (text, status) => {
          await addOutboxRow(client, 'room.notice', { roomId: event.roomId, notice: { text, inReplyTo: event.eventId, ...(status ? { status } : {}) } });
        },
        step: (step, members, reason) => recordCaseStep(client, { careTeamId, step, by: event.sender, ...(members ? { members } : {}), reason }),
        settle: async () => {
          await addOutboxRow(client, 'case.settle', { careTeamId });
        },
      };
      return work(hand);
    });
    await afterCommit?.();
  };

  const nameOf = async (client: Queryable, userId: string) => (await guestNameOf(client, userId)) ?? (await actorFor(client, userId)).name;

  /** "!refer @member: …": any member from the directory refers to another member of the case, from their own role. */
  const refer = async (event: CaseRoomEvent, command: Extract<CaseCommand, { kind: 'refer' }>, { client, careTeam, who, say }: CaseAtHand) => {
    const sender = (await rolesOfMatrixUser(client, event.sender))[0];
    const organization = sender?.organization?.reference;
    if (!sender || !organization) return say(BOT_MESSAGES.case.referNotFromDirectory, 'error');
    if (!who.members.includes(command.target)) return say(BOT_MESSAGES.case.refusal.notAMember(await nameOf(client, command.target)), 'error');
    const owner = (await rolesOfMatrixUser(client, command.target))[0];
    if (!owner) return say(BOT_MESSAGES.case.referNoRole(await nameOf(client, command.target)), 'error');
    const sent = await attemptWrite(client, () =>
      referFromMatrix(writes, client, { careTeam, requesterRole: `PractitionerRole/${sender.id}`, owner: `PractitionerRole/${owner.id}`, request: command.request, writer: { organization, roles: [] }, origin: { roomId: event.roomId, eventId: event.eventId } }),
    );
    if (sent instanceof FhirError) return say(BOT_MESSAGES.case.referRefused(sent.message), 'error');
    return say(BOT_MESSAGES.case.referred(await nameOf(client, command.target)), 'success');
  };

  const moderate = async (event: CaseRoomEvent, command: Extract<CaseCommand, { kind: ModeratorCommand }>, hand: CaseAtHand): Promise<(() => Promise<void>) | void> => {
    const { client, record, who, say, step, settle } = hand;
    const at = new Date();
    const target = 'target' in command ? command.target : undefined;
    if (target && !who.members.includes(target)) return say(BOT_MESSAGES.case.refusal.notAMember(await nameOf(client, target)), 'error');
    const targetName = target ? await nameOf(client, target) : '';
    switch (command.kind) {
      case 'mute': {
        if (who.moderators.includes(command.target)) return say(BOT_MESSAGES.case.refusal.cannotMuteModerator(targetName), 'error');
        const until = command.forMs ? new Date(at.getTime() + command.forMs) : undefined;
        record.muted[command.target] = until ? until.toISOString() : null;
        await saveModeration(client, record);
        await step('muted', [command.target], until ? `until ${until.toISOString()}` : undefined);
        await settle();
        return say(BOT_MESSAGES.case.muted(targetName, until ? formatLocalTime(until, timeZone) : undefined), 'success');
      }
      case 'unmute':
        delete record.muted[command.target];
        await saveModeration(client, record);
        await step('unmuted', [command.target]);
        await settle();
        return say(BOT_MESSAGES.case.unmuted(targetName), 'success');
      case 'mute-all':
      case 'unmute-all':
        record.mutedAll = command.kind === 'mute-all';
        await saveModeration(client, record);
        await step(command.kind === 'mute-all' ? 'muted-all' : 'unmuted-all');
        await settle();
        return say(command.kind === 'mute-all' ? BOT_MESSAGES.case.mutedAll : BOT_MESSAGES.case.unmutedAll, 'success');
      case 'lock':
      case 'unlock':
        record.locked = command.kind === 'lock';
        await saveModeration(client, record);
        await step(command.kind === 'lock' ? 'locked' : 'unlocked');
        await settle();
        return say(command.kind === 'lock' ? BOT_MESSAGES.case.locked : BOT_MESSAGES.case.unlocked, 'success');
      case 'hours':
        record.openHours = command.rule;
        // Undefined: the case clock announces what the new rule makes of the room at its next round.
        record.hoursOpen = undefined;
        await saveModeration(client, record);
        await step('open-hours-set', undefined, command.rule ? formatOpenHours(command.rule) : 'always open');
        await settle();
        return say(command.rule ? BOT_MESSAGES.case.openHoursSet(formatOpenHours(command.rule), timeZone) : BOT_MESSAGES.case.openHoursOff, 'success');
      case 'remove':
      case 'ban': {
        if (command.target === event.sender) return say(BOT_MESSAGES.case.refusal.notAMember(targetName), 'error');
        const ended = await endParticipationOfUser(client, hand.careTeam, command.target, at);
        if (ended) await updateResource(writes, client, ended);
        await step(command.kind === 'ban' ? 'banned-by-moderator' : 'removed-by-moderator', [command.target], command.reason);
        await say(command.kind === 'ban' ? BOT_MESSAGES.case.banned(targetName, command.reason) : BOT_MESSAGES.case.removed(targetName, command.reason), 'success');
        // After the commit, so the room never loses someone the CareTeam still lists; should
        // the hub stop in between, the CareTeam's own `case.settle` removes them (without the reason).
        return () => caseRooms.remove(event.roomId, command.target, command.reason, command.kind === 'ban').catch((error: unknown) => logger.warn({ err: (error as Error).message, roomId: event.roomId }, 'could not remove a case member'));
      }
      case 'guest': {
        const answer = await inviteGuest(writes, client, hand.careTeam, event.sender, command, deps.guests, at);
        return say(answer.text, answer.status);
      }
      case 'guest-end': {
        const meant = await guestsMeant(client, hand.careTeam.id, command.who);
        if (meant.length === 0) return say(BOT_MESSAGES.case.guest.noSuchGuest(command.who), 'error');
        for (const guest of meant) await endGuest(writes, client, hand.careTeam.id, guest, 'ended', event.sender, at);
        return say(BOT_MESSAGES.case.guest.ended(command.who), 'success');
      }
      case 'guests':
        return say(BOT_MESSAGES.case.guest.list(await guestLines(client, hand.careTeam.id, timeZone)));
      case 'close': {
        const closed: CareTeam & { id: string } = { ...hand.careTeam, status: 'inactive', period: { ...hand.careTeam.period, end: at.toISOString() } };
        await updateResource(writes, client, closed);
        await step('locked', undefined, 'case closed');
        return say(BOT_MESSAGES.case.closed, 'success');
      }
    }
  };

  return {
    command: (event) =>
      onCase(event, async (hand) => {
        const { command } = event.happening;
        if (command.kind === 'help') return hand.say(command.unknown ? BOT_MESSAGES.case.unknownCommand(command.unknown) : BOT_MESSAGES.case.help);
        if (command.kind === 'refused-syntax') return hand.say(BOT_MESSAGES.case.refusal.syntax(command.why), 'error');
        if (command.kind === 'refer') return refer(event, command, hand);
        if (!hand.who.moderators.includes(event.sender)) return hand.say(BOT_MESSAGES.case.refusal.onlyModerators(command.kind), 'error');
        return moderate(event, command, hand);
      }),

    // Kept as a Communication only when the case says so (extension case-keep-conversation):
    // otherwise what members say stays in the encrypted room.
    message: (event) =>
      onCase(event, async ({ client, careTeam }) => {
        if (!keepsConversation(careTeam)) return;
        // A guest's words are theirs: the Communication's sender is their RelatedPerson (or the Patient).
        const guest = await guestMemberOf(client, event.sender);
        const actor = guest ? { ...(await actorFor(client, event.sender)), role: { reference: guest } } : await actorFor(client, event.sender);
        await createResource(writes, client, conversationOf(careTeam, event, actor, event.happening.text, new Date()));
      }),

    'member-gone': (event) =>
      onCase(event, async ({ client, careTeam, say, step }) => {
        const { userId, membership, reason } = event.happening;
        const ended = await endParticipationOfUser(client, careTeam, userId, new Date());
        if (!ended) return;
        await updateResource(writes, client, ended);
        const who = await nameOf(client, userId);
        if (event.sender === userId) {
          await step('member-left', [userId]);
          return say(BOT_MESSAGES.case.memberLeft(who));
        }
        await step(membership === 'ban' ? 'banned-by-moderator' : 'removed-by-moderator', [userId], reason);
        return say(BOT_MESSAGES.case.removedByModerator(who, await nameOf(client, event.sender), reason));
      }),

    'power-levels': (event) =>
      onCase(event, async ({ client, careTeam, record, who, step, settle }) => {
        // Only a moderator's own change is followed; anyone else's is put back by the settle.
        if (!who.moderators.includes(event.sender)) return settle();
        const seen = moderationOfPowerLevels(event.happening.content, deps.botUserId, who.staff, who.moderators);
        const before = new Set(Object.keys(record.muted));
        const now = new Set(seen.muted);
        for (const user of now) if (!before.has(user)) {
          record.muted[user] = null;
          await step('muted', [user], 'in their Matrix client');
        }
        for (const user of before) if (!now.has(user) && who.members.includes(user)) {
          delete record.muted[user];
          await step('unmuted', [user], 'in their Matrix client');
        }
        // While open hours (or a suspended case) keep the room locked, the lock seen is theirs, not the moderator's.
        const lockedAnyway = isLocked(careTeam, { ...record, locked: false }, new Date(), timeZone);
        if (!lockedAnyway && seen.locked !== record.locked) {
          await step(seen.locked ? 'locked' : 'unlocked', undefined, 'in their Matrix client');
          record.locked = seen.locked;
        }
        if (seen.mutedAllButStaff !== record.mutedAll) await step(seen.mutedAllButStaff ? 'muted-all' : 'unmuted-all', undefined, 'in their Matrix client');
        record.mutedAll = seen.mutedAllButStaff;
        await saveModeration(client, record);
        return settle();
      }),

    // A yes or no to a meeting's invitation: Appointment.participant.status (answer-meeting.ts).
    'meeting-answer': (event) => onCase(event, ({ client, careTeam, say }) => answerMeeting(writes, client, careTeam, event, say, timeZone)),
  };
}
