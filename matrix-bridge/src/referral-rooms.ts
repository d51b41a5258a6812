import { EventType, Preset, Visibility, type MatrixClient, type ICreateRoomOpts } from 'matrix-js-sdk';
import { uploadEncryptedFile } from './matrix-media.js';
import { CAREHUB_ROOM_STATE, type CareHubRoomState, type ReferralRoomState } from './room-state.js';

const MEGOLM = 'm.megolm.v1.aes-sha2';
const BOT_POWER = 100;

function errcode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'errcode' in error ? String(error.errcode) : undefined;
}

/**
 * The rooms referrals travel in: one room per referral (its Task), so each case has its own
 * history, its own members and its own Megolm keys. The room's alias is derived from the Task id,
 * which makes creating it idempotent: a retry after a crash finds the room instead of making a
 * second one.
 */
export class ReferralRooms {
  constructor(
    private readonly bot: MatrixClient,
    private readonly serverName: string,
  ) {}

  aliasFor(taskId: string): string {
    return `#carehub-referral-${taskId}:${this.serverName}`;
  }

  /** The referral's room, created if needed, with every invitee invited. */
  async ensureRoom(state: ReferralRoomState, invitees: string[]): Promise<string> {
    const taskId = state.task.replace(/^Task\//, '');
    const alias = this.aliasFor(taskId);
    let roomId = await this.resolveAlias(alias);
    if (roomId && !(await this.isUsable(roomId))) {
      // A creation cut short (the homeserver went down mid-request) can leave the alias pointing
      // at a room the bot never joined. The alias is the bot's: take it back and start again.
      await this.bot.deleteAlias(alias);
      roomId = undefined;
    }
    let inviteesInvited = false;
    if (!roomId) {
      try {
        roomId = (await this.bot.createRoom(this.roomOptions(taskId, state, invitees))).room_id;
        inviteesInvited = true;
      } catch (error) {
        // Another worker (or an earlier attempt whose answer was lost) created it first.
        if (errcode(error) !== 'M_ROOM_IN_USE') throw error;
        roomId = await this.resolveAlias(alias);
        if (!roomId) throw error;
      }
    }
    if (!inviteesInvited) await this.inviteMissing(roomId, invitees);
    await this.waitUntilReadyToEncrypt(roomId, invitees);
    return roomId;
  }

  /** The bot's access token, for media requests made outside the SDK (streaming uploads). */
  get accessToken(): string {
    return this.bot.getAccessToken()!;
  }

  /** The bot's own device, named in processing-status requests and answers (MSC4300). */
  get deviceId(): string {
    return this.bot.getDeviceId()!;
  }

  /**
   * Sends an event into a referral room, encrypted. The transaction id makes the send
   * idempotent: the homeserver answers a repeated PUT with the same txnId from the same device
   * with the first event's id, so a retry after a crash or a lost response never posts twice.
   */
  async sendEncrypted(roomId: string, eventType: string, content: object, txnId: string): Promise<string> {
    // Never let anything leave unencrypted, whatever the room's state turned into.
    if (!(await this.bot.getCrypto()!.isEncryptionEnabledInRoom(roomId))) {
      throw new Error(`room ${roomId} is not encrypted; refusing to send`);
    }
    try {
      const { event_id } = await this.bot.sendEvent(roomId, eventType as never, content as never, txnId);
      return event_id;
    } catch (error) {
      // Forget the failed local echo, or the retry with the same txnId is refused client-side.
      const pending = this.bot.getRoom(roomId)?.getEventForTxnId(txnId);
      if (pending) {
        try {
          this.bot.cancelPendingEvent(pending);
        } catch {
          // Already sent or cancelled: nothing to clean up.
        }
      }
      throw error;
    }
  }

  /** Sends a file encrypted (Matrix encrypted attachments): the media repository only holds ciphertext. */
  async sendEncryptedFile(roomId: string, plaintext: Uint8Array, file: { filename: string; mimetype: string }, extra: object, txnId: string): Promise<string> {
    const content = await uploadEncryptedFile(this.bot, plaintext, file);
    return this.sendEncrypted(roomId, EventType.RoomMessage, { ...content, ...extra }, txnId);
  }

  /**
   * Removes someone from a referral room (their role ended, the referral moved elsewhere). The
   * bot's Rust crypto starts a new Megolm session for the next message, so whoever left cannot
   * read what follows even with keys they kept.
   */
  async removeMember(roomId: string, userId: string, reason: string): Promise<void> {
    await this.bot.kick(roomId, userId, reason);
  }

  /** What a room is to CareHub, from its own state event (undefined for rooms that are not ours). */
  roomState(roomId: string): CareHubRoomState | undefined {
    const content = this.bot.getRoom(roomId)?.currentState.getStateEvents(CAREHUB_ROOM_STATE, '')?.getContent();
    return content && content['kind'] === 'referral' ? (content as CareHubRoomState) : undefined;
  }

  private roomOptions(taskId: string, state: ReferralRoomState, invitees: string[]): ICreateRoomOpts {
    const botId = this.bot.getUserId()!;
    return {
      visibility: Visibility.Private,
      // Not trusted_private_chat: with room version 12 that would make every invitee a creator
      // with unchangeable power.
      preset: Preset.PrivateChat,
      room_alias_name: `carehub-referral-${taskId}`,
      // Room names are not encrypted: an id, never a patient's name.
      name: `CareHub referral ${taskId.slice(0, 8)}`,
      invite: invitees,
      initial_state: [
        { type: EventType.RoomEncryption, state_key: '', content: { algorithm: MEGOLM } },
        // Invitees can read from their invite on (so the referral sent before they join is theirs);
        // private_chat's default "shared" would show history to anyone added later.
        { type: EventType.RoomHistoryVisibility, state_key: '', content: { history_visibility: 'invited' } },
        { type: EventType.RoomGuestAccess, state_key: '', content: { guest_access: 'forbidden' } },
        { type: EventType.RoomJoinRules, state_key: '', content: { join_rule: 'invite' } },
        { type: CAREHUB_ROOM_STATE, state_key: '', content: { ...state } },
      ],
      power_level_content_override: {
        users: { [botId]: BOT_POWER },
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
      },
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
    while (Date.now() < deadline) {
      const room = this.bot.getRoom(roomId);
      const everyoneKnown = invitees.every((u) => ['invite', 'join'].includes(room?.getMember(u)?.membership ?? ''));
      if (room && everyoneKnown && (await this.bot.getCrypto()!.isEncryptionEnabledInRoom(roomId))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`room ${roomId} did not reach the bot's sync, encrypted and with its invitees, within ${timeoutMs} ms`);
  }

  /** Invites whoever is neither invited nor joined, by the homeserver's current member list. */
  private async inviteMissing(roomId: string, invitees: string[]): Promise<void> {
    const chunk = (await this.bot.members(roomId)).chunk ?? [];
    const present = new Set(
      chunk.filter((e) => e.content['membership'] === 'join' || e.content['membership'] === 'invite').map((e) => e.state_key),
    );
    for (const userId of invitees) {
      if (!present.has(userId)) await this.bot.invite(roomId, userId);
    }
  }
}
