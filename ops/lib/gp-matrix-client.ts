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
import { CAREHUB_MESSAGE_KEY } from '../../matrix-bridge/src/room-state.js';
import type { RegisteredMatrixUser } from '../../matrix-bridge/src/synapse-user-registration.js';

/**
 * A GP's own Matrix client, independent of the hub: its own account, device and Rust crypto
 * (in memory), joining the rooms it is invited to, as Element would when the GP accepts.
 * The demo shows referrals through it; the tests check what it receives.
 */
export class GpMatrixClient {
  readonly decrypted: MatrixEvent[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly client: MatrixClient,
    readonly userId: string,
    private readonly homeserverUrl: string,
    private readonly accessToken: string,
  ) {}

  /** Logs in as `user` (a device of its own) and syncs. */
  static async start(homeserverUrl: string, user: RegisteredMatrixUser): Promise<GpMatrixClient> {
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
    client.on(RoomMemberEvent.Membership, (_event, member) => {
      if (member.userId === user.userId && member.membership === 'invite') void client.joinRoom(member.roomId).catch(() => undefined);
    });
    client.on(MatrixEventEvent.Decrypted, (event) => {
      if (event.getType() === 'm.room.message' && !event.isDecryptionFailure()) {
        gp.decrypted.push(event);
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
    await client.startClient({ initialSyncLimit: 20 });
    await synced;
    return gp;
  }

  /** Decrypted referral messages this client has seen for a Task. */
  referralsFor(taskId: string): MatrixEvent[] {
    return this.decrypted.filter((e) => e.getContent()[CAREHUB_MESSAGE_KEY]?.task === `Task/${taskId}`);
  }

  /** Waits until the GP's client has decrypted a referral for the Task. */
  async waitForReferral(taskId: string, timeoutMs = 60_000): Promise<MatrixEvent> {
    const found = () => this.referralsFor(taskId)[0];
    if (found()) return found()!;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no decrypted referral for Task/${taskId} within ${timeoutMs} ms`));
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

  /**
   * A room's events exactly as the homeserver stores them, fetched over the Client-Server API
   * with plain HTTP (no SDK, no decryption): what any other device would be given.
   */
  async rawRoomEvents(roomId: string): Promise<Array<{ type: string; sender: string; event_id: string; content: Record<string, unknown> }>> {
    const url = new URL(`/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages`, this.homeserverUrl);
    url.searchParams.set('dir', 'b');
    url.searchParams.set('limit', '100');
    const response = await fetch(url, { headers: { authorization: `Bearer ${this.accessToken}` } });
    if (!response.ok) throw new Error(`/messages: HTTP ${response.status}`);
    return ((await response.json()) as { chunk: Array<{ type: string; sender: string; event_id: string; content: Record<string, unknown> }> }).chunk;
  }

  stop(): void {
    this.client.stopClient();
  }
}
