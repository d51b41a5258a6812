import { EventType, type ICreateRoomOpts, type MatrixClient, type Room } from 'matrix-js-sdk';
import type { MembershipPolicy } from './room-kind.js';
import { untilRoomInSync } from './room-sender.js';
import { CAREHUB_ROOM_STATE } from './room-state.js';

// What settling any kind of CareHub room takes, whatever the kind: finding it by alias (or
// creating it, one settling at a time per alias), checking the bot is in it, setting its
// members, waiting until the bot's sync agrees before the next encrypted send (the Rust crypto
// shares the room key with the members its sync shows), and pinning its first message.

/** Who is in a room or invited to it, by the bot's synced member list. */
export function joinedOrInvited(room: Room): Set<string> {
  return new Set(room.getMembers().filter((m) => m.membership === 'join' || m.membership === 'invite').map((m) => m.userId));
}

export function errcode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'errcode' in error ? String(error.errcode) : undefined;
}

export function httpStatus(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'httpStatus' in error ? Number(error.httpStatus) : undefined;
}

/** The room an alias names, or undefined if none does. */
export async function resolveAlias(bot: MatrixClient, alias: string): Promise<string | undefined> {
  try {
    return (await bot.getRoomIdForAlias(alias)).room_id;
  } catch (error) {
    if (errcode(error) === 'M_NOT_FOUND') return undefined;
    throw error;
  }
}

/** Whether the bot is in the room (joining it if it may), so it can invite and send there. */
export async function isUsable(bot: MatrixClient, roomId: string): Promise<boolean> {
  if (bot.getRoom(roomId)?.getMyMembership() === 'join') return true;
  try {
    await bot.joinRoom(roomId);
    return true;
  } catch (error) {
    // 403: not invited to it; 404: a room with no events at all ("no servers that are in the room").
    const status = httpStatus(error);
    if (status === 403 || status === 404) return false;
    throw error;
  }
}

const PINNED_EVENTS = 'm.room.pinned_events';

/**
 * The rooms of one kind, each named by an alias derived from what the room is about, which makes
 * settling one idempotent: a retry after a crash, or a second worker, finds the room instead of
 * making another. What is asked of the homeserver is remembered for this process: the room each
 * alias names (a settling of a known room costs no directory lookup), and the rooms whose first
 * message was pinned (the sync may not show the pin yet).
 */
export class RoomsByAlias {
  private readonly roomByAlias = new Map<string, string>();
  /** The settling under way for each alias, so workers take turns. */
  private readonly settling = new Map<string, Promise<unknown>>();
  private readonly pinned = new Set<string>();

  constructor(private readonly bot: MatrixClient) {}

  /**
   * Runs `settle` once every settling of `alias` before it has ended (however it ended): one at a
   * time per alias. Concurrent creations would each make a room (the homeserver checks the alias
   * before creating and claims it after), leaving empty rooms with invites.
   */
  async inTurn<T>(alias: string, settle: () => Promise<T>): Promise<T> {
    const previous = this.settling.get(alias) ?? Promise.resolve();
    const settled = previous.catch(() => undefined).then(settle);
    this.settling.set(alias, settled);
    try {
      return await settled;
    } finally {
      if (this.settling.get(alias) === settled) this.settling.delete(alias);
    }
  }

  /**
   * The room `alias` names, or a new one made with `creation()` (whose `room_alias_name` claims
   * the alias), once it is in the bot's sync. `created` tells whether this call made it: a new
   * room's members are those its creation invited.
   */
  async findOrCreate(alias: string, creation: () => ICreateRoomOpts): Promise<{ roomId: string; created: boolean }> {
    let roomId = this.roomByAlias.get(alias) ?? (await resolveAlias(this.bot, alias));
    if (roomId && !(await isUsable(this.bot, roomId))) {
      // A creation cut short (the homeserver went down mid-request) can leave the alias pointing
      // at a room the bot never joined. The alias is the bot's: take it back and start again.
      await this.bot.deleteAlias(alias);
      this.roomByAlias.delete(alias);
      roomId = undefined;
    }
    let created = false;
    if (!roomId) {
      try {
        roomId = (await this.bot.createRoom(creation())).room_id;
        created = true;
      } catch (error) {
        // Another worker (or an earlier attempt whose answer was lost) created it first.
        if (errcode(error) !== 'M_ROOM_IN_USE') throw error;
        roomId = await resolveAlias(this.bot, alias);
        if (!roomId) throw error;
      }
    }
    this.roomByAlias.set(alias, roomId);
    await untilRoomInSync(this.bot, roomId);
    return { roomId, created };
  }

  /**
   * Pins the room's first message, once per room: `send` sends it (with a transaction id of its
   * own, so a retry gets the same event) and resolves with its event id. A pin already there is
   * left as it is.
   */
  async pinOnce(roomId: string, send: () => Promise<string>): Promise<void> {
    if (this.pinned.has(roomId)) return;
    const pins: unknown = this.bot.getRoom(roomId)?.currentState.getStateEvents(PINNED_EVENTS, '')?.getContent()['pinned'];
    if (!Array.isArray(pins) || pins.length === 0) {
      const eventId = await send();
      await this.bot.sendStateEvent(roomId, PINNED_EVENTS as never, { pinned: [eventId] } as never, '');
    }
    this.pinned.add(roomId);
  }
}

/**
 * Waits until the bot's sync shows the room encrypted and with exactly the bot and `members`
 * (invited or joined). A new room can reach the sync before its invites do, and someone just
 * removed must be gone from it too: sending earlier would leave an invitee without the key, or
 * share it with the one removed.
 */
export async function waitUntilReadyToEncrypt(bot: MatrixClient, roomId: string, members: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const wanted = new Set([...members, bot.getUserId()!]);
  while (Date.now() < deadline) {
    const room = bot.getRoom(roomId);
    const present = room ? joinedOrInvited(room) : new Set<string>();
    const everyoneKnown = members.every((u) => present.has(u));
    const nobodyElse = [...present].every((u) => wanted.has(u));
    if (room && everyoneKnown && nobodyElse && (await bot.getCrypto()!.isEncryptionEnabledInRoom(roomId))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`room ${roomId} did not reach the bot's sync, encrypted and with exactly its members, within ${timeoutMs} ms`);
}

/**
 * Invites those of `members` who are neither invited nor joined and, with a `removalReason`,
 * removes everyone else but the bot, by the bot's synced member list (complete: the bot syncs
 * without lazy loading). Another worker may be doing the same: an invite or kick that lost that
 * race is fine as long as the member list ends up right.
 */
export async function settleMembers(bot: MatrixClient, roomId: string, members: string[], removalReason: string | undefined): Promise<{ invited: string[]; removed: string[] }> {
  const room = bot.getRoom(roomId)!;
  const present = () => joinedOrInvited(room);
  const wanted = new Set([...members, bot.getUserId()!]);
  const invited = members.filter((u) => !present().has(u));
  for (const userId of invited) {
    await bot.invite(roomId, userId).catch((error: unknown) => {
      if (!present().has(userId)) throw error;
    });
  }
  if (removalReason === undefined) return { invited, removed: [] };
  const removed = [...present()].filter((u) => !wanted.has(u));
  for (const userId of removed) {
    await bot.kick(roomId, userId, removalReason).catch((error: unknown) => {
      if (present().has(userId)) throw error;
    });
  }
  return { invited, removed };
}

const MEGOLM = 'm.megolm.v1.aes-sha2';

/**
 * The state every CareHub room is created with: Megolm encryption, its kind's history
 * visibility, guest access and join rule, and the `org.carehub.room` event that says what it is
 * (FHIR ids only: state is not encrypted).
 */
export function initialRoomState(membership: MembershipPolicy, carehubState: Record<string, unknown>): NonNullable<ICreateRoomOpts['initial_state']> {
  return [
    { type: EventType.RoomEncryption, state_key: '', content: { algorithm: MEGOLM } },
    { type: EventType.RoomHistoryVisibility, state_key: '', content: { history_visibility: membership.historyVisibility } },
    { type: EventType.RoomGuestAccess, state_key: '', content: { guest_access: membership.guestAccess } },
    { type: EventType.RoomJoinRules, state_key: '', content: { join_rule: membership.joinRule } },
    { type: CAREHUB_ROOM_STATE, state_key: '', content: carehubState },
  ];
}
