import {
  ClientEvent,
  createClient,
  MatrixEventEvent,
  RoomMemberEvent,
  SyncState,
  type MatrixClient,
  type MatrixEvent,
} from 'matrix-js-sdk';
import { pino } from 'pino';
import { quietSdkGlobalLogger, sdkLoggerFor } from '../../matrix-bridge/src/sdk-logger.js';
import { syncFilterWithTimelineLimit } from '../../matrix-bridge/src/sync-filter.js';
import { CAREHUB_MESSAGE_KEY, downloadEncryptedFile, type EncryptedFile, FHIR_RESOURCE_KEY, FHIR_STRUCTURE_KEY, inThread, uploadEncryptedFile } from '@carehub/matrix-bridge';
import type { RegisteredMatrixUser } from './synapse-user-registration.js';

/**
 * The Task ("Task/<id>") a referral message is about: the event that is the referral itself (a
 * text message carrying its FHIR), not an edit of it, a re-send nor anything else in its thread.
 */
export function referralTaskOf(event: MatrixEvent): string | undefined {
  const content = event.getContent();
  const task: unknown = content[CAREHUB_MESSAGE_KEY]?.task;
  const isReferral = event.getType() === 'm.room.message' && content['msgtype'] === 'm.text' && Boolean(content[FHIR_STRUCTURE_KEY]) && !content['m.relates_to'];
  return isReferral && typeof task === 'string' ? task : undefined;
}

/** The FHIR Bundle a referral message carries inline (MSC4302 `de.gematik.fhir.resource`). */
export function fhirBundleOf(content: Record<string, unknown>): { resourceType: string; entry?: Array<{ resource: { resourceType: string; id?: string } }> } | undefined {
  const resource = content[FHIR_RESOURCE_KEY];
  return typeof resource === 'object' && resource !== null ? (resource as never) : undefined;
}

function isReferralMessage(event: MatrixEvent, taskId: string): boolean {
  return referralTaskOf(event) === `Task/${taskId}`;
}

interface RawEvent {
  type: string;
  sender: string;
  event_id: string;
  content: Record<string, unknown>;
}

/**
 * A GP's own Matrix client, independent of the hub: its own account, device and Rust crypto
 * (in memory), joining the rooms it is invited to, as Element would when the GP accepts.
 * The demo shows referrals through it; the tests check what it receives.
 */
export class GpMatrixClient {
  readonly decrypted: MatrixEvent[] = [];
  /** When (ms since epoch) this client decrypted each referral message, by its `org.carehub.referral` task ("Task/<id>"). */
  readonly arrivals = new Map<string, number>();
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly client: MatrixClient,
    readonly userId: string,
    private readonly homeserverUrl: string,
    private readonly accessToken: string,
  ) {}

  /**
   * Logs in as `user` (a device of its own), sets up cross-signing as Element does at a first
   * login (so the hub, which by default shares keys only with cross-signed devices, trusts this
   * device), and syncs. With `crossSign: false` it stays an unverified device.
   */
  static async start(homeserverUrl: string, user: RegisteredMatrixUser & { password?: string }, options: { crossSign?: boolean } = {}): Promise<GpMatrixClient> {
    quietSdkGlobalLogger();
    const client = createClient({
      baseUrl: homeserverUrl,
      userId: user.userId,
      deviceId: user.deviceId,
      accessToken: user.accessToken,
      logger: sdkLoggerFor(pino({ level: 'error' })),
    });
    await client.initRustCrypto({ useIndexedDB: false });
    const gp = new GpMatrixClient(client, user.userId, homeserverUrl, user.accessToken);
    if (options.crossSign !== false) await gp.setUpCrossSigning(user.password);
    client.on(RoomMemberEvent.Membership, (_event, member) => {
      if (member.userId === user.userId && member.membership === 'invite') void client.joinRoom(member.roomId).catch(() => undefined);
    });
    client.on(MatrixEventEvent.Decrypted, (event) => {
      if (!event.isDecryptionFailure() && event.getType() !== 'm.room.encrypted') {
        gp.decrypted.push(event);
        const task = event.getContent()[CAREHUB_MESSAGE_KEY]?.task;
        if (typeof task === 'string' && isReferralMessage(event, task.replace(/^Task\//, '')) && !gp.arrivals.has(task)) gp.arrivals.set(task, Date.now());
        gp.waiters.forEach((w) => w());
      }
    });
    const synced = new Promise<void>((resolve) => {
      const onSync = (state: SyncState) => {
        if (state === SyncState.Prepared) {
          client.off(ClientEvent.Sync, onSync);
          resolve();
        }
      };
      client.on(ClientEvent.Sync, onSync);
    });
    // Up to 1000 events per room in every sync, so nothing falls into a gap after an outage:
    // Element fills such a gap as the GP scrolls back; this client has no screen to scroll.
    await client.startClient({ initialSyncLimit: 20, filter: syncFilterWithTimelineLimit(user.userId, 1000) });
    await synced;
    return gp;
  }

  /**
   * Sets up cross-signing and signs this device with it, as Element does at a first login (or
   * when the GP verifies a login later). The account's first cross-signing upload needs no
   * password (Synapse); a new identity for an account that had one does.
   */
  async setUpCrossSigning(password?: string): Promise<void> {
    await this.client.getCrypto()!.bootstrapCrossSigning({
      authUploadDeviceSigningKeys: async (makeRequest) => {
        try {
          await makeRequest(null);
        } catch (error) {
          if (!password) throw error;
          await makeRequest({ type: 'm.login.password', identifier: { type: 'm.id.user', user: this.userId }, password } as never);
        }
      },
      setupNewCrossSigning: true,
    });
  }

  /** The display name a user's profile shows (what this client shows for them). */
  async displayNameOf(userId: string): Promise<string | undefined> {
    return (await this.client.getProfileInfo(userId)).displayname;
  }

  /** Decrypted referral messages (not edits of them) this client has seen for a Task. */
  referralsFor(taskId: string): MatrixEvent[] {
    return this.decrypted.filter((e) => isReferralMessage(e, taskId));
  }

  /** Decrypted events in a room, in the order this client decrypted them. */
  eventsIn(roomId: string): MatrixEvent[] {
    return this.decrypted.filter((e) => e.getRoomId() === roomId);
  }

  /** Waits until a decrypted event matches (checked against everything seen so far, then each new one). */
  async waitForEvent(description: string, matches: (event: MatrixEvent) => boolean, timeoutMs = 60_000): Promise<MatrixEvent> {
    const found = () => this.decrypted.find(matches);
    if (found()) return found()!;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no decrypted event: ${description} within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        const event = found();
        if (!event) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(event);
      };
      this.waiters.add(check);
    });
  }

  /** Waits for the bot's notice in a referral's thread whose text starts with `start` (the answer to a reaction replies to the referral). */
  waitForNoticeInThread(referral: MatrixEvent, start: string, timeoutMs = 60_000): Promise<MatrixEvent> {
    return this.waitForEvent(
      `a notice in the thread of ${referral.getId()} starting "${start}"`,
      (e) => e.getContent()['msgtype'] === 'm.notice' && e.getContent()['m.relates_to']?.event_id === referral.getId() && String(e.getContent()['body']).startsWith(start),
      timeoutMs,
    );
  }

  /** Waits for the bot's notice that answers `eventId` (a reply to it). */
  waitForNoticeAbout(eventId: string, timeoutMs = 60_000): Promise<MatrixEvent> {
    return this.waitForEvent(
      `a notice replying to ${eventId}`,
      (e) => e.getContent()['msgtype'] === 'm.notice' && e.getContent()['m.relates_to']?.['m.in_reply_to']?.event_id === eventId,
      timeoutMs,
    );
  }

  /**
   * Sends a text message (encrypted, as any client would): in a referral's thread when given the
   * referral's message (as Element does when the GP answers in the thread), at the top of the
   * room when given a room id; optionally as a reply to an event.
   */
  async say(where: MatrixEvent | string, body: string, inReplyTo?: string): Promise<string> {
    return this.send(where, { msgtype: 'm.text', body }, inReplyTo);
  }

  /** Reacts to an event with an emoji (an m.annotation), as Element's reaction button does. */
  async react(event: MatrixEvent, key: string): Promise<string> {
    const content = { 'm.relates_to': { rel_type: 'm.annotation', event_id: event.getId(), key } };
    return (await this.client.sendEvent(event.getRoomId()!, 'm.reaction' as never, content as never)).event_id;
  }

  /** Downloads and decrypts an m.file's encrypted attachment with this GP's own access token. */
  async downloadFile(content: Record<string, unknown>): Promise<Buffer> {
    const file = content['file'] as EncryptedFile | undefined;
    if (typeof file?.url !== 'string') throw new Error('the message carries no encrypted file (content.file with an mxc:// url)');
    return downloadEncryptedFile(this.homeserverUrl, this.accessToken, file);
  }

  /**
   * Posts a file the way Element does in an encrypted room (an encrypted attachment in an
   * m.file): into a referral's thread, or at the top of a room given its id.
   */
  async sendFile(where: MatrixEvent | string, bytes: Uint8Array, filename: string, mimetype: string): Promise<string> {
    return this.send(where, await uploadEncryptedFile(this.client, bytes, { filename, mimetype }));
  }

  private async send(where: MatrixEvent | string, content: object, inReplyTo?: string): Promise<string> {
    const reply = inReplyTo ? { 'm.relates_to': { 'm.in_reply_to': { event_id: inReplyTo } } } : {};
    const [roomId, relation] = typeof where === 'string' ? [where, reply] : [where.getRoomId()!, inThread(where.getId()!, inReplyTo)];
    return (await this.client.sendEvent(roomId, 'm.room.message' as never, { ...content, ...relation } as never)).event_id;
  }

  /** Sends a read receipt for an event, as a client does when the GP opens the room. */
  async markRead(event: MatrixEvent): Promise<void> {
    await this.client.sendReadReceipt(event);
  }

  /** Waits until the GP's client has decrypted a referral for the Task. */
  async waitForReferral(taskId: string, timeoutMs = 60_000): Promise<MatrixEvent> {
    return this.waitForEvent(`the referral for Task/${taskId}`, (e) => isReferralMessage(e, taskId), timeoutMs);
  }

  /**
   * A room's events exactly as the homeserver stores them, fetched over the Client-Server API
   * with plain HTTP (no SDK, no decryption): what any other device would be given.
   */
  async rawRoomEvents(roomId: string): Promise<RawEvent[]> {
    const events: RawEvent[] = [];
    for (let from: string | undefined; ; ) {
      const url = new URL(`/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages`, this.homeserverUrl);
      url.searchParams.set('dir', 'b');
      url.searchParams.set('limit', '500');
      if (from) url.searchParams.set('from', from);
      const response = await fetch(url, { headers: { authorization: `Bearer ${this.accessToken}` } });
      if (!response.ok) throw new Error(`/messages: HTTP ${response.status}`);
      const page = (await response.json()) as { chunk: RawEvent[]; end?: string };
      events.push(...page.chunk);
      if (!page.end || page.chunk.length === 0) return events;
      from = page.end;
    }
  }

  /**
   * How many events `sender` stored in a room for each referral (by the `org.carehub.referral`
   * task of what this client decrypted), counted from the homeserver's own copy of the room; an
   * event this client could not decrypt counts under "undecrypted", one it decrypted that is
   * about no referral (the room's intro) under "room".
   */
  async eventsPerReferral(roomId: string, sender: string): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const raw of await this.rawRoomEvents(roomId)) {
      if (raw.sender !== sender || raw.type !== 'm.room.encrypted') continue;
      const decrypted = this.decrypted.find((e) => e.getId() === raw.event_id);
      const task: unknown = decrypted?.getContent()[CAREHUB_MESSAGE_KEY]?.task;
      const key = typeof task === 'string' ? task : decrypted ? 'room' : 'undecrypted';
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }

  stop(): void {
    this.client.stopClient();
  }
}
