import { EventType, Preset, Visibility, type ICreateRoomOpts, type MatrixClient, type Room } from 'matrix-js-sdk';
import { createHash } from 'node:crypto';
import { REFERRAL_ROOM, type ReferralsRoomState } from './referral-room-kind.js';
import { renderRoomIntro } from './room-notice.js';
import { untilRoomInSync, type RoomSender } from './room-sender.js';
import { CAREHUB_ROOM_STATE } from './room-state.js';

const MEGOLM = 'm.megolm.v1.aes-sha2';

/** "carehub-referrals-<hash of requester and owner>": stable for a pair, opaque to anyone reading it. */
function aliasLocalpart(state: ReferralsRoomState): string {
  return `carehub-referrals-${createHash('sha256').update(`${state.requester ?? ''}\n${state.owner}`).digest('hex').slice(0, 32)}`;
}

/** Who is in a room or invited to it, by the bot's synced member list. */
function joinedOrInvited(room: Room): Set<string> {
  return new Set(room.getMembers().filter((m) => m.membership === 'join' || m.membership === 'invite').map((m) => m.userId));
}

const PINNED_EVENTS = 'm.room.pinned_events';

function errcode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'errcode' in error ? String(error.errcode) : undefined;
}

/**
 * The rooms referrals travel in: one room per sender and recipient (the Task's requester and
 * owner), each referral a thread in it. A GP practice sees one room per clinic that refers to
 * it, not one per patient, and the hub sends into rooms that exist instead of creating one per
 * referral (room creation is what limits a homeserver's pace: docs/decisions/0006).
 * The room's alias is derived from the pair, which makes creating it idempotent: a retry after a
 * crash, or a second worker, finds the room instead of making another.
 */
export class ReferralRooms {
  /** Rooms already found by alias, so a delivery into a known room costs no directory lookup. */
  private readonly roomByAlias = new Map<string, string>();
  /** The room settling (found or created, members set) for each alias, so workers take turns. */
  private readonly settling = new Map<string, Promise<string>>();

  /** Rooms whose intro this process pinned (the sync may not show the pin yet). */
  private readonly pinned = new Set<string>();

  constructor(
    private readonly bot: MatrixClient,
    private readonly serverName: string,
    /** What the bot sends with (the room's pinned intro, here). */
    private readonly sender: RoomSender,
  ) {}

  /** The alias of a sender/recipient pair's room: a hash, so no FHIR id or name is spelled out. */
  aliasFor(state: ReferralsRoomState): string {
    return `#${aliasLocalpart(state)}:${this.serverName}`;
  }

  /**
   * The pair's room, created if needed, whose members are exactly the bot and `invitees`: the
   * missing are invited and anyone no longer among the recipient's Matrix users is removed
   * (which rotates the room key before the next referral). `title` names the sender in the
   * room's name, which is not encrypted: an organisation's name, never a patient's.
   */
  async ensureRoom(state: ReferralsRoomState, invitees: string[], title: string | undefined): Promise<string> {
    const alias = this.aliasFor(state);
    // One worker at a time per pair: concurrent creations would each make a room (the homeserver
    // checks the alias before creating and claims it after), leaving empty rooms with invites.
    const previous = this.settling.get(alias) ?? Promise.resolve();
    const settled = previous.catch(() => undefined).then(() => this.settleRoom(alias, state, invitees, title));
    this.settling.set(alias, settled);
    try {
      return await settled;
    } finally {
      if (this.settling.get(alias) === settled) this.settling.delete(alias);
    }
  }

  private async settleRoom(alias: string, state: ReferralsRoomState, invitees: string[], title: string | undefined): Promise<string> {
    let roomId = this.roomByAlias.get(alias) ?? (await this.resolveAlias(alias));
    if (roomId && !(await this.isUsable(roomId))) {
      // A creation cut short (the homeserver went down mid-request) can leave the alias pointing
      // at a room the bot never joined. The alias is the bot's: take it back and start again.
      await this.bot.deleteAlias(alias);
      this.roomByAlias.delete(alias);
      roomId = undefined;
    }
    let membersSettled = false;
    if (!roomId) {
      try {
        roomId = (await this.bot.createRoom(this.roomOptions(state, invitees, title))).room_id;
        membersSettled = true;
      } catch (error) {
        // Another worker (or an earlier attempt whose answer was lost) created it first.
        if (errcode(error) !== 'M_ROOM_IN_USE') throw error;
        roomId = await this.resolveAlias(alias);
        if (!roomId) throw error;
      }
    }
    this.roomByAlias.set(alias, roomId);
    await untilRoomInSync(this.bot, roomId);
    if (!membersSettled) await this.settleMembers(roomId, invitees);
    await this.waitUntilReadyToEncrypt(roomId, invitees);
    await this.pinIntro(roomId, title);
    return roomId;
  }

  /**
   * The room's first pinned message says what the room is and how to answer, readable on every
   * device (it holds no patient data), so a GP on a login that cannot read referrals yet learns
   * what to do. Sent once per room: a pin already there is left as it is.
   */
  private async pinIntro(roomId: string, title: string | undefined): Promise<void> {
    if (this.pinned.has(roomId)) return;
    const pins: unknown = this.bot.getRoom(roomId)?.currentState.getStateEvents(PINNED_EVENTS, '')?.getContent()['pinned'];
    if (!Array.isArray(pins) || pins.length === 0) {
      const txnId = `carehub-intro-${createHash('sha256').update(roomId).digest('hex').slice(0, 24)}`;
      const eventId = await this.sender.sendEncrypted(roomId, EventType.RoomMessage, renderRoomIntro(title), txnId, { kind: 'every-device' });
      await this.bot.sendStateEvent(roomId, PINNED_EVENTS as never, { pinned: [eventId] } as never, '');
    }
    this.pinned.add(roomId);
  }

  /**
   * Removes someone from a referrals room (they are no longer among the recipient's users). The
   * bot's Rust crypto starts a new Megolm session for the next message, so whoever left cannot
   * read what follows even with keys they kept.
   */
  async removeMember(roomId: string, userId: string, reason: string): Promise<void> {
    await this.bot.kick(roomId, userId, reason);
  }

  private roomOptions(state: ReferralsRoomState, invitees: string[], title: string | undefined): ICreateRoomOpts {
    const botId = this.bot.getUserId()!;
    const membership = REFERRAL_ROOM.membership;
    return {
      visibility: Visibility.Private,
      // Not trusted_private_chat: with room version 12 that would make every invitee a creator
      // with unchangeable power.
      preset: Preset.PrivateChat,
      room_alias_name: aliasLocalpart(state),
      // Room names are not encrypted: the sender's name, never a patient's.
      name: title ? `CareHub referrals from ${title}` : 'CareHub referrals',
      topic: 'Each referral is a thread: answer in it with ✅ / ❌ reason / done, or type "help".',
      invite: invitees,
      initial_state: [
        { type: EventType.RoomEncryption, state_key: '', content: { algorithm: MEGOLM } },
        { type: EventType.RoomHistoryVisibility, state_key: '', content: { history_visibility: membership.historyVisibility } },
        { type: EventType.RoomGuestAccess, state_key: '', content: { guest_access: membership.guestAccess } },
        { type: EventType.RoomJoinRules, state_key: '', content: { join_rule: membership.joinRule } },
        { type: CAREHUB_ROOM_STATE, state_key: '', content: { ...state } },
      ],
      power_level_content_override: REFERRAL_ROOM.powerLevels(state, botId),
    };
  }

  /** Whether the bot is in the room (joining it if it may), so it can invite and send there. */
  private async isUsable(roomId: string): Promise<boolean> {
    if (this.bot.getRoom(roomId)?.getMyMembership() === 'join') return true;
    try {
      await this.bot.joinRoom(roomId);
      return true;
    } catch (error) {
      // 403: not invited to it; 404: a room with no events at all ("no servers that are in the room").
      const status = typeof error === 'object' && error !== null && 'httpStatus' in error ? Number(error.httpStatus) : undefined;
      if (status === 403 || status === 404) return false;
      throw error;
    }
  }

  private async resolveAlias(alias: string): Promise<string | undefined> {
    try {
      return (await this.bot.getRoomIdForAlias(alias)).room_id;
    } catch (error) {
      if (errcode(error) === 'M_NOT_FOUND') return undefined;
      throw error;
    }
  }

  /**
   * The bot shares the room key with the members its own sync has shown it. A new room can reach
   * the sync before its invites do; sending then would leave the invitees without the key.
   */
  private async waitUntilReadyToEncrypt(roomId: string, invitees: string[], timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const wanted = new Set([...invitees, this.bot.getUserId()!]);
    while (Date.now() < deadline) {
      const room = this.bot.getRoom(roomId);
      const present = room ? joinedOrInvited(room) : new Set<string>();
      const everyoneKnown = invitees.every((u) => present.has(u));
      // Someone just removed must be gone from the sync too, or the next key would be shared with them.
      const nobodyElse = [...present].every((u) => wanted.has(u));
      if (room && everyoneKnown && nobodyElse && (await this.bot.getCrypto()!.isEncryptionEnabledInRoom(roomId))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`room ${roomId} did not reach the bot's sync, encrypted and with exactly its members, within ${timeoutMs} ms`);
  }

  /**
   * Invites the recipients who are neither invited nor joined and removes members who are no
   * longer recipients, by the bot's synced member list (complete: the bot syncs without lazy
   * loading). Another worker may be doing the same: an invite or kick that lost that race is
   * fine as long as the member list ends up right.
   */
  private async settleMembers(roomId: string, invitees: string[]): Promise<void> {
    const room = this.bot.getRoom(roomId)!;
    const present = () => joinedOrInvited(room);
    const wanted = new Set([...invitees, this.bot.getUserId()!]);
    for (const userId of invitees.filter((u) => !present().has(u))) {
      await this.bot.invite(roomId, userId).catch((error: unknown) => {
        if (!present().has(userId)) throw error;
      });
    }
    const removalReason = REFERRAL_ROOM.membership.removeOthers;
    if (removalReason === undefined) return;
    for (const userId of [...present()].filter((u) => !wanted.has(u))) {
      await this.removeMember(roomId, userId, removalReason).catch((error: unknown) => {
        if (present().has(userId)) throw error;
      });
    }
  }
}
