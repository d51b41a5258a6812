import type { MatrixClient } from 'matrix-js-sdk';
import { AllDevicesIsolationMode, CryptoEvent, OnlySignedDevicesIsolationMode } from 'matrix-js-sdk/lib/crypto-api/index.js';
import type { KeyShareLedger } from './key-share-ledger.js';
import { uploadEncryptedFile, type FileMessageContent } from './matrix-media.js';
import { SendGate } from './send-gate.js';

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

/** How long a user's device list is trusted without a change report from the bot's crypto. */
const DEVICE_CACHE_MS = 60_000;

/** Waits until the bot's sync holds the room (just created, or just joined). */
export async function untilRoomInSync(bot: MatrixClient, roomId: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (bot.getRoom(roomId)?.getMyMembership() !== 'join') {
    if (Date.now() > deadline) throw new Error(`room ${roomId} did not reach the bot's sync within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * What the bot sends into its rooms and how: encrypted room events (to the members, every device
 * or a few members), encrypted uploads, its access token for media requests made outside the
 * SDK, and which devices got an event's key. Settling a room (creating it, its members and power
 * levels) is the room kind's and ReferralRooms', not this.
 */
export class RoomSender {
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
    private readonly options: { keySharing?: 'cross-signed' | 'all'; ledger?: KeyShareLedger } = {},
  ) {
    // Registered first, so anyone else told of a change reads the devices afresh.
    this.onDeviceChange((userIds) => userIds.forEach((u) => this.deviceCache.delete(u)));
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
   * Sends an event into a room, encrypted. The transaction id makes the send idempotent: the
   * homeserver answers a repeated PUT with the same txnId from the same device with the first
   * event's id, so a retry after a crash or a lost response never posts twice.
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
    await untilRoomInSync(this.bot, roomId);
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
   * Encrypts and uploads a file (Matrix encrypted attachments: the media repository only holds
   * ciphertext); returns the m.file content to send with `sendEncrypted`.
   */
  uploadEncryptedFile(plaintext: Uint8Array, file: { filename: string; mimetype: string }): Promise<FileMessageContent> {
    return uploadEncryptedFile(this.bot, plaintext, file);
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
}
