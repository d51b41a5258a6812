import { EventType } from 'matrix-js-sdk';
import { CASE_COMMAND_WORDS, parseCaseCommand, type CaseCommand } from './case-commands.js';
import { casePowerLevels } from './case-power-levels.js';
import { readMeetingAnswer, type MeetingAnswerStatus } from './meeting-answer.js';
import type { RoomEventBase, RoomEventHandlers, RoomKind, RoomKindWithoutHandlers, StateChange } from './room-kind.js';

// The case room, the second room kind: one moderated room per case (a FHIR CareTeam) that a care
// counsellor runs with the person's GP, home-care service, clinic and others. Its Matrix side;
// the hub supplies the handlers.

/** A case room's CareHub state: FHIR ids only (state events are not encrypted). */
export interface CaseRoomState {
  kind: 'case';
  /** "CareTeam/<id>": the case. */
  careTeam: string;
}

export function asCaseRoomState(content: Record<string, unknown> | undefined): CaseRoomState | undefined {
  return content && content['kind'] === 'case' && typeof content['careTeam'] === 'string' && content['careTeam'].startsWith('CareTeam/')
    ? { kind: 'case', careTeam: content['careTeam'] }
    : undefined;
}

/** What a member did in a case room that the hub acts on. */
export type CaseHappening =
  /** A command (`!mute @…`, `case close`, …), or a word the bot did not understand. */
  | { kind: 'command'; command: CaseCommand }
  /** Conversation: kept as a Communication when the case's settings say so. */
  | { kind: 'message'; text: string }
  /** Someone left, or was removed or banned by a moderator with the plain Matrix API (Element's member list). */
  | { kind: 'member-gone'; userId: string; membership: 'leave' | 'ban'; reason: string | undefined }
  /** A moderator changed the power levels in their own client (Element's mute, for one). */
  | { kind: 'power-levels'; content: Record<string, unknown> }
  /** A member's yes or no to a meeting's invitation (a reply or a ✅/❌ reaction to it); "Appointment/<id>". */
  | { kind: 'meeting-answer'; appointment: string; answer: MeetingAnswerStatus };

export interface CaseRoomEvent extends RoomEventBase {
  happening: CaseHappening;
}

export type CaseRoomHandlers = RoomEventHandlers<CaseRoomEvent>;

const IN_ROOM = new Set(['join', 'invite']);

function readMembership(event: StateChange): CaseHappening | undefined {
  const membership = event.content['membership'];
  const before = event.previousContent?.['membership'];
  if ((membership !== 'leave' && membership !== 'ban') || typeof before !== 'string' || !IN_ROOM.has(before)) return undefined;
  const reason = typeof event.content['reason'] === 'string' ? event.content['reason'] : undefined;
  return { kind: 'member-gone', userId: event.stateKey, membership, reason };
}

/** The case room's Matrix side: its state event, how it reads events, membership, power levels and commands. */
export const CASE_ROOM: RoomKindWithoutHandlers<CaseRoomState, CaseRoomEvent, CaseCommand['kind']> = {
  kind: 'case',
  stateOf: asCaseRoomState,
  readTimelineEvent(event) {
    // Before commands and conversation: "yes" in reply to a meeting's invitation is an answer.
    const meetingAnswer = readMeetingAnswer(event);
    if (meetingAnswer) return { happening: { kind: 'meeting-answer', ...meetingAnswer } };
    if (event.type !== EventType.RoomMessage) return undefined;
    const { body, msgtype, format, formatted_body: formatted } = event.content as { body?: unknown; msgtype?: unknown; format?: unknown; formatted_body?: unknown };
    // Edits (m.replace) are not new commands.
    const relation = event.content['m.relates_to'] as { rel_type?: string } | undefined;
    // Files and images stay in the room (the transcript takes them at the close); notices are bots talking.
    if (typeof body !== 'string' || (msgtype !== 'm.text' && msgtype !== 'm.emote') || relation?.rel_type === 'm.replace') return undefined;
    const command = parseCaseCommand(body, format === 'org.matrix.custom.html' && typeof formatted === 'string' ? formatted : undefined);
    return { happening: command ? { kind: 'command', command } : { kind: 'message', text: body } };
  },
  readStateEvent(event) {
    if (event.type === EventType.RoomMember) {
      const happening = readMembership(event);
      return happening && { happening };
    }
    if (event.type === EventType.RoomPowerLevels && event.stateKey === '') return { happening: { kind: 'power-levels', content: event.content } };
    return undefined;
  },
  membership: {
    joinRule: 'invite',
    guestAccess: 'forbidden',
    // From each member's invitation on: who joins a case later does not read what was said
    // before (unless the Consent says otherwise: a later issue).
    historyVisibility: 'invited',
    removeOthers: 'No longer a participant of the case (CareTeam)',
  },
  powerLevels(_state, botUserId) {
    return casePowerLevels(botUserId, { moderators: [], staff: [], muted: [], locked: false, mutedAllButStaff: false });
  },
  commands: CASE_COMMAND_WORDS,
};

/** The case room kind, acting on its events with the hub's `handlers`. */
export function caseRoomKind(handlers: CaseRoomHandlers): RoomKind<CaseRoomState, CaseRoomEvent, CaseCommand['kind']> {
  return { ...CASE_ROOM, handlers };
}
