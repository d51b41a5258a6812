import { hkdfSync } from 'node:crypto';
import { ClientEvent, createClient, MatrixScheduler, SyncState, type MatrixClient } from 'matrix-js-sdk';
import { AllDevicesIsolationMode, OnlySignedDevicesIsolationMode } from 'matrix-js-sdk/lib/crypto-api/index.js';
import type { Logger } from 'pino';
import { BotDeviceStore, type BotSession } from './bot-device-store.js';
import { quietSdkGlobalLogger, sdkLoggerFor } from './sdk-logger.js';
import { syncFilterWithTimelineLimit } from './sync-filter.js';

export interface BotClientOptions {
  homeserverUrl: string;
  userId: string;
  /** Read only when the bot has no device yet and must log in. */
  readPassword: () => Promise<string>;
  deviceDisplayName: string;
  /** The name every member's client shows for the bot (its profile), set at start-up. */
  displayName?: string;
  /** Its profile picture (an mxc:// URI), set at start-up when given. */
  avatarUrl?: string;
  deviceStorePath: string;
  /** 32 bytes; the file key and the crypto store's own key are derived from it. */
  deviceStoreKey: Buffer;
  /** Which devices get room keys: only those their owner cross-signed (default), or all. */
  keySharing?: 'cross-signed' | 'all';
  /** Recent events per room the first sync replays (so answers sent while the hub was down are seen). */
  catchUpEvents?: number;
  /** Sees every request the bot makes before it leaves (the key-share ledger reads withheld keys from them). */
  observeRequest?: (url: string, init: RequestInit | undefined) => void;
  /** Called with the client before its first sync, to attach listeners that must see it. */
  beforeSync?: (client: MatrixClient) => void;
  logger: Logger;
}

export interface BotClient {
  client: MatrixClient;
  deviceId: string;
  stop(): Promise<void>;
}

const CRYPTO_DB_PREFIX = 'carehub-bot';
/** Events per room the bot's syncs after the first may return (see startBotClient). */
const SYNC_TIMELINE_LIMIT = 1000;

function deriveKey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `carehub/${purpose}`, 32));
}

async function logInNewDevice(options: BotClientOptions): Promise<BotSession> {
  const anonymous = createClient({ baseUrl: options.homeserverUrl, logger: sdkLoggerFor(options.logger) });
  const response = await anonymous.loginRequest({
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: options.userId },
    password: await options.readPassword(),
    initial_device_display_name: options.deviceDisplayName,
  });
  return { userId: response.user_id, deviceId: response.device_id, accessToken: response.access_token };
}

/** A room event being sent (PUT /rooms/{roomId}/send/{type}/{txnId}): Megolm ciphertext. */
const isRoomEventSend = (input: Parameters<typeof fetch>[0], init: RequestInit | undefined) =>
  init?.method === 'PUT' && /\/rooms\/[^/]+\/send\//.test(input instanceof Request ? input.url : String(input));

/**
 * Every request that changes state on the homeserver (key uploads, key claims, to-device key
 * shares) waits until the device store on disk holds the crypto state behind it. A crash can
 * then lose only work the homeserver never saw, never an Olm ratchet step it did.
 *
 * Room event sends are the exception: what a crash can lose there is the last steps of a room's
 * outbound Megolm session, which RoomSender makes harmless by starting a new session in each
 * room before its first send in this process (docs/decisions/0010).
 */
function durableFetch(deviceStore: BotDeviceStore, observe?: BotClientOptions['observeRequest']): typeof fetch {
  return async (input, init) => {
    observe?.(input instanceof Request ? input.url : String(input), init);
    if (init?.method && init.method !== 'GET' && !isRoomEventSend(input, init)) await deviceStore.flushIfStale();
    return fetch(input, init);
  };
}

function waitForFirstSync(client: MatrixClient): Promise<void> {
  return new Promise((resolve, reject) => {
    const onSync = (state: SyncState, _previous: SyncState | null, data?: { error?: Error }) => {
      if (state === SyncState.Prepared || state === SyncState.Syncing) {
        client.off(ClientEvent.Sync, onSync);
        resolve();
      } else if (state === SyncState.Error && data?.error && 'errcode' in data.error && data.error.errcode === 'M_UNKNOWN_TOKEN') {
        client.off(ClientEvent.Sync, onSync);
        reject(new Error('the homeserver no longer knows the bot device (M_UNKNOWN_TOKEN); remove the device store to log in again'));
      }
    };
    client.on(ClientEvent.Sync, onSync);
  });
}

/**
 * Gives the bot cross-signing keys and signs its device with them, so GPs' clients (and a
 * hub that shares keys only with cross-signed devices) can tell the bot's device is the bot's
 * own. Done once: later starts find the keys in the crypto store. Synapse lets an account's
 * first upload of cross-signing keys through without interactive auth; a replacement needs
 * the password.
 */
async function bootstrapCrossSigning(client: MatrixClient, options: BotClientOptions): Promise<void> {
  const crypto = client.getCrypto()!;
  if (await crypto.isCrossSigningReady()) return;
  await crypto.bootstrapCrossSigning({
    authUploadDeviceSigningKeys: async (makeRequest) => {
      try {
        await makeRequest(null);
      } catch {
        await makeRequest({
          type: 'm.login.password',
          identifier: { type: 'm.id.user', user: options.userId },
          password: await options.readPassword(),
        } as never);
      }
    },
  });
}

/**
 * Starts the hub's Matrix bot with end-to-end encryption (matrix-js-sdk Rust crypto). The same
 * device and crypto store are reused on every start; only the very first start logs in.
 */
/**
 * Sets the bot's profile display name (and avatar) when they differ: a device name is shown
 * only in device lists, so without this every client shows the bot as its raw account name.
 */
async function showAs(client: MatrixClient, profile: { displayName?: string | undefined; avatarUrl?: string | undefined }, logger: BotClientOptions['logger']): Promise<void> {
  const current = await client.getProfileInfo(client.getUserId()!).catch(() => undefined);
  if (profile.displayName && current?.displayname !== profile.displayName) {
    await client.setDisplayName(profile.displayName);
    logger.info({ displayName: profile.displayName }, 'bot display name set');
  }
  if (profile.avatarUrl && current?.avatar_url !== profile.avatarUrl) {
    await client.setAvatarUrl(profile.avatarUrl);
    logger.info({ avatarUrl: profile.avatarUrl }, 'bot avatar set');
  }
}

/**
 * Waits until every room the homeserver says the bot has joined is in the client: sends and the
 * start-up replay of missed answers need them, with their members. A sync that came back without
 * them (see syncFilterWithTimelineLimit) is caught up by the next ones.
 */
async function untilJoinedRoomsSynced(client: MatrixClient, logger: Logger, timeoutMs = 30_000): Promise<void> {
  const { joined_rooms: joined } = await client.getJoinedRooms();
  const deadline = Date.now() + timeoutMs;
  const missing = () => joined.filter((roomId) => client.getRoom(roomId)?.getMyMembership() !== 'join');
  while (missing().length > 0) {
    if (Date.now() > deadline) {
      logger.warn({ missing: missing().length, joined: joined.length }, "some joined rooms are not in the bot's sync yet; going on, sends into them wait for them");
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startBotClient(options: BotClientOptions): Promise<BotClient> {
  quietSdkGlobalLogger();
  const deviceStore = await BotDeviceStore.open(
    options.deviceStorePath,
    deriveKey(options.deviceStoreKey, 'device-file'),
    CRYPTO_DB_PREFIX,
  );
  let session = deviceStore.savedSession;
  if (session && session.userId !== options.userId) {
    throw new Error(`the device store at ${options.deviceStorePath} belongs to ${session.userId}, not ${options.userId}`);
  }
  if (!session) {
    session = await logInNewDevice(options);
    deviceStore.setSession(session);
    options.logger.info({ deviceId: session.deviceId }, 'logged in a new bot device');
  }
  // The SDK's scheduler: the bot's room events leave one at a time, in order, because sends side
  // by side left GPs' clients unable to decrypt some referrals after outages (docs/decisions/0007).
  //
  // The scheduler itself never retries: a send that failed is retried by the delivery queue,
  // which encrypts the event again. Its own retries would send, after an outage, ciphertext made
  // during it, under a Megolm session whose key share may never have reached the recipients.
  const client = createClient({
    scheduler: new MatrixScheduler(() => -1),
    baseUrl: options.homeserverUrl,
    userId: session.userId,
    deviceId: session.deviceId,
    accessToken: session.accessToken,
    fetchFn: durableFetch(deviceStore, options.observeRequest),
    logger: sdkLoggerFor(options.logger),
  });
  await client.initRustCrypto({
    useIndexedDB: true,
    cryptoDatabasePrefix: CRYPTO_DB_PREFIX,
    storageKey: deriveKey(options.deviceStoreKey, 'crypto-store'),
  });
  await bootstrapCrossSigning(client, options);
  client.getCrypto()!.setDeviceIsolationMode(options.keySharing === 'all' ? new AllDevicesIsolationMode(false) : new OnlySignedDevicesIsolationMode());
  await deviceStore.flushIfStale();
  options.beforeSync?.(client);
  const firstSync = waitForFirstSync(client);
  // No lazy loading of members: the bot must know every member, invited ones included, to
  // share room keys with them. Every later sync asks for up to SYNC_TIMELINE_LIMIT events per
  // room, or GP answers in a gap after an outage would never be seen (docs/decisions/0009).
  await client.startClient({
    initialSyncLimit: options.catchUpEvents ?? 50,
    lazyLoadMembers: false,
    filter: syncFilterWithTimelineLimit(session.userId, SYNC_TIMELINE_LIMIT),
  });
  await firstSync;
  await untilJoinedRoomsSynced(client, options.logger);
  await showAs(client, { displayName: options.displayName, avatarUrl: options.avatarUrl }, options.logger);
  options.logger.info({ deviceId: session.deviceId }, 'bot device synced');
  return {
    client,
    deviceId: session.deviceId,
    async stop() {
      client.stopClient();
      await deviceStore.close();
    },
  };
}
