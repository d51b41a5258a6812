import { EventType } from 'matrix-js-sdk';
import { ANSWER_WORDS, parseAnswerEvent, type AnswerAction, type ReferralAnswer } from './referral-answer.js';
import type { PowerLevels, ReadReceipt, RoomEventBase, RoomEventHandlers, RoomKind, RoomKindWithoutHandlers, TimelineEvent } from './room-kind.js';
import { CAREHUB_DOCUMENT_KEY, CAREHUB_MESSAGE_KEY, CAREHUB_ROOM_STATE } from './room-state.js';

// The referral room, the first room kind: one room per sender and recipient, each referral a
// thread in it (docs/decisions/0006). This is its Matrix side; the hub supplies the handlers.

/**
 * A room for the referrals between one sender and one recipient: every referral a requester
 * sends to a recipient (a PractitionerRole, Organization or HealthcareService) is a thread in it.
 */
export interface ReferralsRoomState {
  kind: 'referrals';
  /** The Task.requester reference ("Organization/<id>", "PractitionerRole/<id>"), if the Task names one. */
  requester?: string;
  /** The Task.owner reference: whose members the room holds. */
  owner: string;
}

/** The state of a room, if it is a CareHub referrals room (undefined for any other room the bot is in). */
export function asReferralsRoomState(content: Record<string, unknown> | undefined): ReferralsRoomState | undefined {
  return content && content['kind'] === 'referrals' && typeof content['owner'] === 'string' ? (content as unknown as ReferralsRoomState) : undefined;
}

/** What a member did in a referral room: an answer, a message, a document, a request for help, or a read receipt. */
export type ReferralHappening = Exclude<ReferralAnswer, { kind: 'ignored' }> | ReadReceipt;

/** Something a member did in a referral room that the hub may have to act on. */
export interface ReferralRoomEvent extends RoomEventBase {
  /**
   * "Task/<id>" of the referral, when one of the events it relates to is the bot's own and says
   * so in its (encrypted) content: known from the room itself, even before the hub has recorded the send.
   */
  referral?: string;
  happening: ReferralHappening;
}

/** What the hub does with each kind of event in a referral room. */
export type ReferralRoomHandlers = RoomEventHandlers<ReferralRoomEvent>;

const BOT_POWER = 100;

/** The referral the first of the related events sent by the bot names in its content (message, file, document). */
function referralNamedBy(event: TimelineEvent): string | undefined {
  for (const id of event.relatesTo) {
    const content = event.botContentOf(id) as Record<string, { task?: unknown } | undefined> | undefined;
    if (!content) continue;
    const task = content[CAREHUB_MESSAGE_KEY]?.task ?? content[CAREHUB_DOCUMENT_KEY]?.task;
    if (typeof task === 'string') return task;
  }
  return undefined;
}

/** The referral room's Matrix side: its state event, how it reads events, membership, power levels and commands. */
export const REFERRAL_ROOM: RoomKindWithoutHandlers<ReferralsRoomState, ReferralRoomEvent, AnswerAction | 'help'> = {
  kind: 'referrals',
  stateOf: asReferralsRoomState,
  readTimelineEvent(event) {
    const happening = parseAnswerEvent(event.type, event.content);
    if (happening.kind === 'ignored') return undefined;
    const referral = referralNamedBy(event);
    return { ...(referral ? { referral } : {}), happening };
  },
  // The members are the bot and the recipient's Matrix users; whoever the directory no longer
  // lists is removed, which rotates the room key before the next referral.
  membership: {
    joinRule: 'invite',
    guestAccess: 'forbidden',
    // Invitees can read from their invite on (so the referral sent before they join is theirs);
    // private_chat's default "shared" would show history to anyone added later.
    historyVisibility: 'invited',
    removeOthers: "No longer among the recipient's Matrix users in the CareHub directory",
  },
  // Only the bot may change encryption, history visibility, join rules, power levels or the room's CareHub state.
  powerLevels(_state, botUserId): PowerLevels {
    return {
      users: { [botUserId]: BOT_POWER },
      users_default: 0,
      events_default: 0,
      state_default: 50,
      invite: 50,
      kick: 50,
      ban: 50,
      redact: 50,
      events: {
        [EventType.RoomEncryption]: BOT_POWER,
        [EventType.RoomPowerLevels]: BOT_POWER,
        [EventType.RoomHistoryVisibility]: BOT_POWER,
        [EventType.RoomJoinRules]: BOT_POWER,
        [EventType.RoomTombstone]: BOT_POWER,
        [EventType.RoomServerAcl]: BOT_POWER,
        [CAREHUB_ROOM_STATE]: BOT_POWER,
      },
    };
  },
  commands: ANSWER_WORDS,
};

/** The referral room kind, acting on its events with the hub's `handlers`. */
export function referralRoomKind(handlers: ReferralRoomHandlers): RoomKind<ReferralsRoomState, ReferralRoomEvent, AnswerAction | 'help'> {
  return { ...REFERRAL_ROOM, handlers };
}
