import { EventType, Preset, Visibility, type ICreateRoomOpts, type MatrixClient, type Room } from 'matrix-js-sdk';
import { AllDevicesIsolationMode, CryptoEvent, OnlySignedDevicesIsolationMode } from 'matrix-js-sdk/lib/crypto-api/index.js';
import { uploadEncryptedFile, type FileMessageContent } from './matrix-media.js';
import { createHash } from 'node:crypto';
import type { KeyShareLedger } from './key-share-ledger.js';
import { renderRoomIntro } from './room-notice.js';
import { SendGate } from './send-gate.js';
import { CAREHUB_ROOM_STATE, type ReferralsRoomState } from './room-state.js';

const MEGOLM = 'm.megolm.v1.aes-sha2';
const BOT_POWER = 100;

/** "carehub-referrals-<hash of requester and owner>": stable for a pair, opaque to anyone reading it. */
function aliasLocalpart(state: ReferralsRoomState): string {
  return `carehub-referrals-${createHash('sha256').update(`${state.requester ?? ''}\n${state.owner}`).digest('hex').slice(0, 32)}`;
}

/** Who is in a room or invited to it, by the bot's synced member list. */
function joinedOrInvited(room: Room): Set<string> {
  return new Set(room.getMembers().filter((m) => m.membership === 'join' || m.membership === 'invite').map((m) => m.userId));
}

/**
 * Who a room event's key is shared with: the room's members as the key-sharing policy allows
 * (the usual), every device of every member (a notice without patient data that a device the
 * policy excludes must still read), or only some members (a referral sent again for them).
 */
export type Audience = { kind: 'members' } | { kind: 'every-device' } | { kind: 'only'; userIds: string[] };

/** One of a recipient's devices, and whether the key-sharing policy lets it read what the bot sends. */
export interface RecipientDevice {
  userId: string;
  deviceId: string;
  readable: boolean;
}

/** Whether a device got an event's key, and if not, why (the `m.room_key.withheld` code). */
export interface DeviceReach extends RecipientDevice {
  reason?: string;
}

const PINNED_EVENTS = 'm.room.pinned_events';
/** How long a user's device list is trusted without a change report from the bot's crypto. */
const DEVICE_CACHE_MS = 60_000;

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
  private readonly gate = new SendGate();
  /**
   * Each user's devices as last looked up, until the bot's crypto reports a change for them (or
   * DEVICE_CACHE_MS passes), so a delivery does not call into the Rust crypto, on the event loop
   * the sends share, for every recipient device.
   */
  private readonly deviceCache = new Map<string, { devices: RecipientDevice[]; at: number }>();
  /**
   * Rooms this process has sent into. Before its first send into a room the bot starts a new
   * Megolm session there: the device store may hold the room's outbound session a few messages
   * behind what the homeserver saw (room sends do not wait for it), and reusing it would repeat
   * message indexes, which clients refuse as a replay. Done here, at the first send, rather than
   * for every room at start-up: a room counts from the moment it is used, whatever the sync did.
   */
  private readonly sentInto = new Set<string>();
  /** For sends made alone under a fresh session, by transaction id: the devices that got its key. */
  private readonly sharedWith = new Map<string, Set<string>>();

  constructor(
    private readonly bot: MatrixClient,
    private readonly serverName: string,
    private readonly options: { keySharing?: 'cross-signed' | 'all'; ledger?: KeyShareLedger } = {},
  ) {
    // Registered first, so anyone else told of a change reads the devices afresh.
    this.onDeviceChange((userIds) => userIds.forEach((u) => this.deviceCache.delete(u)));
  }

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
    await this.waitUntilInSync(roomId);
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
      const eventId = await this.sendEncrypted(roomId, EventType.RoomMessage, renderRoomIntro(title), txnId, { kind: 'every-device' });
      await this.bot.sendStateEvent(roomId, PINNED_EVENTS as never, { pinned: [eventId] } as never, '');
    }
    this.pinned.add(roomId);
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
  async sendEncrypted(roomId: string, eventType: string, content: object, txnId: string, audience: Audience = { kind: 'members' }): Promise<string> {
    // Never let anything leave unencrypted, whatever the room's state turned into.
    if (!(await this.bot.getCrypto()!.isEncryptionEnabledInRoom(roomId))) {
      throw new Error(`room ${roomId} is not encrypted; refusing to send`);
    }
    if (audience.kind === 'members' || (audience.kind === 'every-device' && this.options.keySharing === 'all')) {
      return this.gate.ordinarySend(() => this.send(roomId, eventType, content, txnId));
    }
    return this.gate.sendAlone(() => this.sendTo(roomId, eventType, content, txnId, audience));
  }

  /**
   * A send under a Megolm session of its own, shared as `audience` says: the room's session is
   * discarded before (so the audience cannot read earlier events with it) and after (so later
   * events get a session shared by the policy again).
   */
  private async sendTo(roomId: string, eventType: string, content: object, txnId: string, audience: Exclude<Audience, { kind: 'members' }>): Promise<string> {
    const crypto = this.bot.getCrypto()!;
    const room = this.bot.getRoom(roomId);
    if (!room) throw new Error(`room ${roomId} is not in the bot's sync`);
    const targets = room.getEncryptionTargetMembers.bind(room);
    const botId = this.bot.getUserId();
    await crypto.forceDiscardSession(roomId);
    try {
      if (audience.kind === 'every-device') crypto.setDeviceIsolationMode(new AllDevicesIsolationMode(false));
      else {
        // A key shared with nobody would still send: each of the audience must be a member the bot's sync knows.
        const members = new Set((await targets()).map((m) => m.userId));
        const unknown = audience.userIds.filter((u) => !members.has(u));
        if (unknown.length > 0) throw new Error(`room ${roomId}: ${unknown.join(', ')} not among the members in the bot's sync yet; not sent`);
        room.getEncryptionTargetMembers = async () => (await targets()).filter((m) => audience.userIds.includes(m.userId) || m.userId === botId);
      }
      const mark = this.options.ledger?.olmMark();
      const eventId = await this.send(roomId, eventType, content, txnId);
      if (mark !== undefined) {
        this.sharedWith.set(txnId, this.options.ledger!.olmRecipientsSince(mark));
        if (this.sharedWith.size > 1000) this.sharedWith.delete(this.sharedWith.keys().next().value!);
      }
      return eventId;
    } finally {
      room.getEncryptionTargetMembers = targets;
      crypto.setDeviceIsolationMode(this.options.keySharing === 'all' ? new AllDevicesIsolationMode(false) : new OnlySignedDevicesIsolationMode());
      await crypto.forceDiscardSession(roomId);
    }
  }

  private async send(roomId: string, eventType: string, content: object, txnId: string): Promise<string> {
    await this.waitUntilInSync(roomId);
    if (!this.sentInto.has(roomId)) {
      await this.bot.getCrypto()!.forceDiscardSession(roomId);
      this.sentInto.add(roomId);
    }
    try {

      const { event_id } = await this.bot.sendEvent(roomId, eventType as never, content as never, txnId);
      return event_id;
    } catch (error) {
      // After a failed send nobody knows which key shares reached whom (the homeserver may have
      // gone away in the middle of sharing a new session): the retry starts a new session,
      // shared with every member before it is used.
      await this.bot
        .getCrypto()!
        .forceDiscardSession(roomId)
        .catch(() => undefined);
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

  /**
   * The devices of `userIds` as the bot's crypto knows them (asking the homeserver for users it
   * does not track yet), each with whether the key-sharing policy lets it read: with
   * `cross-signed`, only devices their owner has signed with their cross-signing key.
   */
  async devicesOf(userIds: string[]): Promise<RecipientDevice[]> {
    const now = Date.now();
    const fresh = (userId: string) => {
      const cached = this.deviceCache.get(userId);
      return cached && now - cached.at < DEVICE_CACHE_MS ? cached.devices : undefined;
    };
    const missing = userIds.filter((u) => !fresh(u));
    if (missing.length > 0) {
      const crypto = this.bot.getCrypto()!;
      const byUser = await crypto.getUserDeviceInfo(missing, true);
      for (const userId of missing) {
        const devices: RecipientDevice[] = [];
        for (const deviceId of byUser.get(userId)?.keys() ?? []) {
          const readable = this.options.keySharing === 'all' || Boolean((await crypto.getDeviceVerificationStatus(userId, deviceId))?.signedByOwner);
          devices.push({ userId, deviceId, readable });
        }
        this.deviceCache.set(userId, { devices, at: now });
      }
    }
    return userIds.flatMap((u) => this.deviceCache.get(u)?.devices ?? []);
  }


  /**
   * Which of `userIds`' devices got the key of the event sent with `txnId`: those its Megolm
   * session was withheld from (as the bot's crypto told them, with its code) did not, nor did
   * any the policy excludes; the rest did.
   */
  async reachOf(roomId: string, txnId: string, userIds: string[]): Promise<DeviceReach[]> {
    const sessionId = this.options.ledger?.sessionOf(roomId, txnId);
    const withheld = sessionId ? this.options.ledger!.withheldIn(roomId, sessionId) : [];
    const shared = this.sharedWith.get(txnId);
    return (await this.devicesOf(userIds)).map((device) => {
      const refused = withheld.find((w) => w.userId === device.userId && w.deviceId === device.deviceId);
      if (refused) return { ...device, readable: false, reason: refused.code };
      // A send made alone under a fresh session: only the devices sent an Olm message during it have its key.
      if (shared && !shared.has(`${device.userId}\n${device.deviceId}`)) return { ...device, readable: false, reason: 'not-shared' };
      return device.readable ? device : { ...device, reason: 'm.unverified' };
    });
  }

  /** Calls `changed` with the users whose devices or cross-signing the bot saw change; returns the unsubscribe. */
  onDeviceChange(changed: (userIds: string[]) => void): () => void {
    const onDevices = (userIds: string[]) => changed(userIds);
    const onTrust = (userId: string) => changed([userId]);
    this.bot.on(CryptoEvent.DevicesUpdated, onDevices);
    this.bot.on(CryptoEvent.UserTrustStatusChanged, onTrust);
    return () => {
      this.bot.off(CryptoEvent.DevicesUpdated, onDevices);
      this.bot.off(CryptoEvent.UserTrustStatusChanged, onTrust);
    };
  }

  /**
   * Encrypts and uploads a file (Matrix encrypted attachments: the media repository only holds
   * ciphertext); returns the m.file content to send with `sendEncrypted`.
   */
  uploadEncryptedFile(plaintext: Uint8Array, file: { filename: string; mimetype: string }): Promise<FileMessageContent> {
    return uploadEncryptedFile(this.bot, plaintext, file);
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

  /** Waits until the bot's sync holds the room (just created, or just joined). */
  private async waitUntilInSync(roomId: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.bot.getRoom(roomId)?.getMyMembership() !== 'join') {
      if (Date.now() > deadline) throw new Error(`room ${roomId} did not reach the bot's sync within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
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
    for (const userId of [...present()].filter((u) => !wanted.has(u))) {
      await this.removeMember(roomId, userId, "No longer among the recipient's Matrix users in the CareHub directory").catch((error: unknown) => {
        if (present().has(userId)) throw error;
      });
    }
  }
}
