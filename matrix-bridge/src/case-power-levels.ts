import { EventType } from 'matrix-js-sdk';
import type { PowerLevels } from './room-kind.js';
import { CAREHUB_ROOM_STATE } from './room-state.js';

// A case room's moderation is its m.room.power_levels (Matrix spec §10.5): who may write is a
// user's level against `events_default`. The hub keeps the moderation (who is muted, whether the
// room is locked) and renders it here; it reads back what Element's own buttons did to the same
// event with moderationOfPowerLevels, so either way of moderating ends in one state.

/** Who is who in a case room, and what its moderators have done to it. */
export interface CaseModeration {
  /** The care counsellors who run the case. */
  moderators: string[];
  /** The network's professionals in the case (every participant but guests): they may still write when the room is muted for all. */
  staff: string[];
  /** Members who may not write. Moderators are never muted: listed here, they keep their level. */
  muted: string[];
  /** Only moderators (and the bot) may write. */
  locked: boolean;
  /** Only staff, moderators (and the bot) may write. */
  mutedAllButStaff: boolean;
}

/** The levels of a case room: everyone else (guests, the GPs, nurses of other practices) is at users_default, 0. */
export const CASE_LEVELS = { bot: 100, moderator: 50, staff: 10, member: 0, muted: -1 } as const;

/** What it takes to write an event (encrypted or not) when the room is locked, muted for all, or neither. */
function writingLevel(moderation: Pick<CaseModeration, 'locked' | 'mutedAllButStaff'>): number {
  if (moderation.locked) return CASE_LEVELS.moderator;
  return moderation.mutedAllButStaff ? CASE_LEVELS.staff : CASE_LEVELS.member;
}

/**
 * The m.room.power_levels content for a case room's moderation. The lock and the mute-all are
 * `events_default`: per-type rules in `events` are matched against the event's type, and an
 * encrypted message is `m.room.encrypted` whatever it holds, so a rule for `m.room.message`
 * would stop no one. Moderators write at 50 even when locked, so they can unlock.
 */
export function casePowerLevels(botUserId: string, moderation: CaseModeration): PowerLevels {
  const users: Record<string, number> = {};
  for (const user of moderation.staff) users[user] = CASE_LEVELS.staff;
  // A muted member is below every writing level, staff too (-1 < 0 ≤ events_default).
  for (const user of moderation.muted) users[user] = CASE_LEVELS.muted;
  // …but a moderator is not: muting one would leave a case no one can unlock.
  for (const user of moderation.moderators) users[user] = CASE_LEVELS.moderator;
  users[botUserId] = CASE_LEVELS.bot;
  return {
    users,
    users_default: CASE_LEVELS.member,
    events_default: writingLevel(moderation),
    state_default: CASE_LEVELS.moderator,
    // Members come in through the CareTeam (and its Consent check), never by a moderator's invite.
    invite: CASE_LEVELS.bot,
    kick: CASE_LEVELS.moderator,
    ban: CASE_LEVELS.moderator,
    redact: CASE_LEVELS.moderator,
    // Only the bot may change encryption, history visibility, join rules, the room's CareHub
    // state, or its name, topic and avatar (not encrypted: no moderator may put a person's name
    // there). Moderators may change power levels, so that Element's own Mute works for them: the
    // Matrix rules keep them from touching any level above their own (these), and the hub
    // follows their mutes and locks and puts back any other change. They pin and add widgets.
    events: {
      [EventType.RoomEncryption]: CASE_LEVELS.bot,
      [EventType.RoomPowerLevels]: CASE_LEVELS.moderator,
      [EventType.RoomName]: CASE_LEVELS.bot,
      [EventType.RoomTopic]: CASE_LEVELS.bot,
      [EventType.RoomAvatar]: CASE_LEVELS.bot,
      [EventType.RoomHistoryVisibility]: CASE_LEVELS.bot,
      [EventType.RoomJoinRules]: CASE_LEVELS.bot,
      [EventType.RoomTombstone]: CASE_LEVELS.bot,
      [EventType.RoomServerAcl]: CASE_LEVELS.bot,
      [CAREHUB_ROOM_STATE]: CASE_LEVELS.bot,
      [EventType.RoomPinnedEvents]: CASE_LEVELS.moderator,
      'im.vector.modular.widgets': CASE_LEVELS.moderator,
    },
  };
}

/** A power level as the content holds it: an integer, or (room versions before 10) an integer string. */
function levelOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  return typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : undefined;
}

/**
 * What the room's power levels say of its moderation, whoever set them: the bot, or a moderator
 * with Element's own buttons. Element's "Mute" sets a member one below the level needed to
 * write, and its read-only room raises `events_default`; so `events_default` of 50 or more is
 * the lock, 1 to 49 the mute-all, and a member listed below `events_default` is muted, unless
 * that is just their role's level under a lock or mute-all (staff at 10 in a locked room, a GP
 * at 0 in a muted one). Moderators and the bot are never muted. A member Element raised to
 * write through a mute-all is not a state the case has: the next rendering puts them back.
 */
export function moderationOfPowerLevels(
  content: Record<string, unknown>,
  botUserId: string,
  staff: readonly string[],
  moderators: readonly string[],
): Pick<CaseModeration, 'muted' | 'locked' | 'mutedAllButStaff'> {
  // Spec §10.5: an absent events_default or users_default is 0.
  const eventsDefault = levelOf(content['events_default']) ?? 0;
  const users = typeof content['users'] === 'object' && content['users'] !== null ? (content['users'] as Record<string, unknown>) : {};
  const muted: string[] = [];
  for (const [user, value] of Object.entries(users)) {
    if (user === botUserId || moderators.includes(user)) continue;
    const level = levelOf(value);
    const roleLevel = staff.includes(user) ? CASE_LEVELS.staff : CASE_LEVELS.member;
    if (level !== undefined && level < eventsDefault && level !== roleLevel) muted.push(user);
  }
  return { muted, locked: eventsDefault >= CASE_LEVELS.moderator, mutedAllButStaff: eventsDefault > CASE_LEVELS.member && eventsDefault < CASE_LEVELS.moderator };
}
