import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type BotClient, CaseRooms, caseRoomKind, DirectChats, directChatKind, KeyShareLedger, ReferralRooms, referralRoomKind, RoomEvents, RoomSender, startBotClient } from '@carehub/matrix-bridge';
import { ReadabilityWatch } from './delivery/readability-watch.js';
import type { CareHubConfig } from './config/config-schema.js';
import { matrixDeliveryProcessor } from './delivery/matrix-delivery-worker.js';
import { deliverSubscriptionNotification } from './subscriptions/deliver-notification.js';
import { referralRoomHandlers } from './workflow/act-on-room-event.js';
import { CaseClock } from './cases/case-clock.js';
import { caseRoomHandlers } from './cases/case-room-handlers.js';
import { directChatHandlers } from './cases/direct-chat-handlers.js';
import { greetDirectChat } from './cases/direct-chat-greeting.js';
import { rolesOfMatrixUser } from './routing/roles-of-matrix-user.js';
import { DocumentStore } from './documents/document-store.js';
import { PgpWorkers } from './documents/pgp-stream.js';
import { reencryptContent } from './documents/reencrypt-content.js';
import { currentStorageKeyId, loadStorageKeyring } from './documents/storage-keyring.js';
import { Validator } from './fhir/resource-validator.js';
import { knownExtensions, readExtensionDefinitionFiles } from './fhir/validation/extension-definitions.js';
import { TerminologyServer } from './fhir/validation/terminology-server.js';
import { tokenSignerFromFile } from './auth/access-token.js';
import { createApp } from './http/app.js';
import { createOperatorApp } from './http/operator-app.js';
import { ReadinessProbe } from './http/readiness-probe.js';
import { SubscriptionEndpointPolicy } from './subscriptions/subscription-criteria.js';
import { HubMetrics } from './metrics.js';
import { OutboxRelay } from './outbox/outbox-relay.js';
import { cappedExponentialBackoff, createQueues, producerConnection, QUEUE_FOR_TOPIC, workerConnection } from './queue/queues.js';
import { withOutboxPayload } from './queue/outbox-payload.js';
import { createDatabase, inTransaction, type Database } from './store/database.js';
import { migrate } from './store/migrate.js';
import { backfillAccessGrants } from './access/access-grants.js';
import type { WriteContext } from './workflow/write-context.js';

/** Serialises the one-time access-grant backfill between hub processes starting together. */
const ACCESS_BACKFILL_LOCK = 7_242_002;

/** The version CareHub reports (CapabilityStatement.software), from its package.json: one place to bump. */
export const CAREHUB_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface RunningHub {
  db: Database;
  /** The URL the API listens on (with the real port when config asked for port 0). */
  baseUrl: string | undefined;
  /** The operator's listener (/metrics, /healthz, /readyz), with its real port. */
  operatorUrl: string;
  bot: BotClient | undefined;
  stop(): Promise<void>;
}

async function readDeviceStoreKey(path: string): Promise<Buffer> {
  const hex = (await readFile(path, 'utf8')).trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error(`matrix.deviceStore.keyFile ${path} must hold 64 hex characters (32 bytes)`);
  return Buffer.from(hex, 'hex');
}

function listen(app: ReturnType<typeof createApp | typeof createOperatorApp>, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(server)));
  });
}

/** http://host:port of a listening server, with the port it really got (config may say 0). */
function urlOf(server: Server, host: string): string {
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('the server is not listening on a TCP port');
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/**
 * Wires the hub's parts for the roles in config: the API, the outbox relay, the delivery worker.
 * Each can run in its own process; all three run together by default.
 */
export async function startHub(config: CareHubConfig, logger: Logger): Promise<RunningHub> {
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) {
      const started = Date.now();
      logger.debug({ step: fn.toString().slice(0, 80) }, 'shutdown step');
      await fn().catch((error: unknown) => logger.warn({ err: error }, 'error during shutdown'));
      if (Date.now() - started > 2000) logger.warn({ step: fn.toString().slice(0, 80), ms: Date.now() - started }, 'a shutdown step was slow');
    }
  };
  const metrics = new HubMetrics();
  const db = createDatabase(config.database.url, config.database.poolSize);
  stops.push(() => db.end());
  try {
    // The operator's listener first, so a process that is still starting already answers liveness.
    const readiness = new ReadinessProbe(() => db.query('SELECT 1'));
    const operatorServer = await listen(createOperatorApp({ metrics, readiness }), config.http.operator.host, config.http.operator.port);
    const operatorUrl = urlOf(operatorServer, config.http.operator.host);
    stops.push(() => new Promise((resolve) => operatorServer.close(resolve)));
    logger.info({ operatorUrl }, 'operator endpoints listening');

    const subscriptionEndpoints = new SubscriptionEndpointPolicy(config.subscriptions.allowedHosts);
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
    const backfilled = await inTransaction(db, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [ACCESS_BACKFILL_LOCK]);
      return backfillAccessGrants(client);
    });
    if (backfilled > 0) logger.info({ resources: backfilled }, 'access grants written for resources stored before the access policy');

    // Documents: OpenPGP at rest, in worker threads. A rotation (npm run rotate-storage-key)
    // changes the folder's current key; every node picks it up on its next refresh.
    const documents = config.documents;
    const documentStore = new DocumentStore(documents.storageKeyDir ? new PgpWorkers(documents.pgpWorkers) : undefined);
    let refreshKeyring = async () => undefined as void;
    if (documents.storageKeyDir) {
      const dir = documents.storageKeyDir;
      refreshKeyring = async () => {
        documentStore.useSettings({ keyring: await loadStorageKeyring(dir), maxSizeBytes: documents.maxSizeBytes, allowedContentTypes: documents.allowedContentTypes });
      };
      await refreshKeyring();
      let lastKeyId = documentStore.settings().keyring.currentKeyId;
      const timer = setInterval(() => {
        void currentStorageKeyId(dir)
          .then(async (keyId) => {
            if (keyId === lastKeyId) return;
            await refreshKeyring();
            lastKeyId = keyId;
            logger.info({ storageKey: keyId }, 'new current storage key');
          })
          .catch((error: unknown) => logger.warn({ err: error }, 'could not read the storage key folder'));
      }, 5000);
      timer.unref();
      stops.push(async () => {
        clearInterval(timer);
        await documentStore.close();
      });
    } else {
      logger.warn('documents.storageKeyDir is not set: the hub accepts no documents (503)');
    }
    // What every write needs, whichever part of the hub makes it; made for the roles that write
    // (api, delivery). The validator loads the FHIR definitions (seconds) now, not on the first write.
    let madeWrites: WriteContext | undefined;
    const writeContext = (): WriteContext =>
      (madeWrites ??= {
        validator: new Validator(knownExtensions(readExtensionDefinitionFiles(config.validation.extensions.definitions), config.validation.extensions)),
        documents: documentStore,
        subscriptionEndpoints,
      });

    let bot: BotClient | undefined;
    let roomEvents: RoomEvents | undefined;
    let sender: RoomSender | undefined;
    let caseRooms: CaseRooms | undefined;
    if (config.roles.includes('delivery')) {
      const writes = writeContext();
      const ledger = new KeyShareLedger(logger.child({ component: 'matrix-bot' }));
      bot = await startBotClient({
        homeserverUrl: config.matrix.homeserverUrl,
        userId: config.matrix.bot.userId,
        readPassword: async () => (await readFile(config.matrix.bot.passwordFile, 'utf8')).trim(),
        deviceDisplayName: config.matrix.bot.displayName,
        displayName: config.matrix.bot.displayName,
        ...(config.matrix.bot.avatarUrl ? { avatarUrl: config.matrix.bot.avatarUrl } : {}),
        deviceStorePath: config.matrix.deviceStore.path,
        deviceStoreKey: await readDeviceStoreKey(config.matrix.deviceStore.keyFile),
        keySharing: config.matrix.keySharing,
        observeRequest: ledger.observe,
        catchUpEvents: config.matrix.catchUpEvents,
        logger: logger.child({ component: 'matrix-bot' }),
        // Listening before the first sync: the start-up replay of recent events is how answers
        // sent while the hub was down are acted on.
        beforeSync: (client) => {
          const roomSender = new RoomSender(client, { keySharing: config.matrix.keySharing, ledger });
          sender = roomSender;
          // The room kinds the bot knows, each with what the hub does with its events.
          const media = { homeserverUrl: config.matrix.homeserverUrl, accessToken: () => roomSender.accessToken };
          caseRooms = new CaseRooms(client, config.matrix.serverName, roomSender);
          const guests = { ...config.cases, canMakeAccounts: config.cases.synapseAdminTokenFile !== undefined };
          const cases = { db, writes, caseRooms, botUserId: config.matrix.bot.userId, timeZone: config.cases.timeZone, guests, logger: logger.child({ component: 'case-rooms' }) };
          const kinds = [referralRoomKind(referralRoomHandlers(db, writes, logger.child({ component: 'room-events' }), media)), caseRoomKind(caseRoomHandlers(cases)),
            directChatKind(directChatHandlers({ db, writes, logger: logger.child({ component: 'direct-chats' }) })),
          ];
          roomEvents = new RoomEvents(client, kinds, logger.child({ component: 'room-events' }));
          roomEvents.start();
        },
      });
      stops.push(() => bot!.stop());
      stops.push(() => roomEvents?.stop() ?? Promise.resolve());
      // Every joined room is in the sync now (startBotClient waits for them): find each one's kind.
      roomEvents?.recogniseRooms();
      // Members start direct chats with the bot from their own clients; only directory users get one.
      const directChats = new DirectChats(
        bot.client,
        async (userId) => (await rolesOfMatrixUser(db, userId)).length > 0,
        (roomId, userId) => greetDirectChat(db, roomId, userId),
        logger.child({ component: 'direct-chats' }),
      );
      directChats.start();
      stops.push(async () => directChats.stop());
      if (!sender || !caseRooms) throw new Error('the bot started without calling beforeSync');
      const rooms = new ReferralRooms(bot.client, config.matrix.serverName, sender);
      const readability = new ReadabilityWatch(db, sender, logger.child({ component: 'readability' }), config.matrix.readabilityCheckSeconds * 1000);
      readability.start();
      stops.push(() => readability.stop());
      const caseClock = new CaseClock(db, writes, config.cases, logger.child({ component: 'case-clock' }));
      caseClock.start();
      stops.push(() => caseClock.stop());
      const connection = workerConnection(config);
      stops.push(async () => connection.disconnect());
      const workerOptions = {
        connection,
        prefix: config.redis.queuePrefix,
        lockDuration: config.delivery.lockDurationMs,
        stalledInterval: config.delivery.lockDurationMs,
        settings: { backoffStrategy: cappedExponentialBackoff(config.delivery.backoffMs, config.delivery.maxBackoffMs) },
      };
      const matrixWorker = new Worker(QUEUE_FOR_TOPIC['referral.deliver'], withOutboxPayload(db, matrixDeliveryProcessor({
          db,
          writes,
          rooms,
          sender,
          logger,
          homeserverUrl: config.matrix.homeserverUrl,
          cases: { caseRooms, botUserId: config.matrix.bot.userId, timeZone: config.cases.timeZone, meetingBaseUrl: config.cases.meetingBaseUrl },
          closing: {
            bot: bot.client,
            media: { homeserverUrl: config.matrix.homeserverUrl, accessToken: () => sender!.accessToken },
            publicBaseUrl: config.http.publicBaseUrl,
            timeZone: config.cases.timeZone,
            synapseAdminTokenFile: config.cases.synapseAdminTokenFile,
            homeserverUrl: config.matrix.homeserverUrl,
          },
        })), {
        ...workerOptions,
        concurrency: config.delivery.concurrency,
      });
      const notificationWorker = new Worker(
        QUEUE_FOR_TOPIC['subscription.notify'],
        withOutboxPayload(db, deliverSubscriptionNotification({
          db,
          writes,
          logger: logger.child({ component: 'subscriptions' }),
          timeoutMs: config.subscriptions.timeoutMs,
          allowedHosts: subscriptionEndpoints.allowedHosts,
        })),
        { ...workerOptions, concurrency: config.delivery.concurrency },
      );
      const maintenanceWorker = new Worker(
        QUEUE_FOR_TOPIC['binary.reencrypt'],
        withOutboxPayload(db, reencryptContent({ db, documents: documentStore, logger: logger.child({ component: 'documents' }), refreshKeyring })),
        { ...workerOptions, concurrency: 1 },
      );
      for (const worker of [matrixWorker, notificationWorker, maintenanceWorker]) {
        worker.on('completed', (job) => metrics.deliveries.inc({ outcome: 'delivered', topic: job.name }));
        worker.on('failed', (job, error) => {
          metrics.deliveries.inc({ outcome: 'failed', topic: job?.name ?? 'unknown' });
          logger.warn({ jobId: job?.id, topic: job?.name, attempt: job?.attemptsMade, err: error.message }, 'delivery attempt failed');
        });
        worker.on('error', (error) => logger.warn({ err: error.message }, 'delivery worker error'));
        stops.push(() => worker.close());
      }
    }

    if (config.roles.includes('outbox-relay')) {
      const connection: Redis = producerConnection(config);
      connection.on('error', () => undefined); // reported by the relay when a publish fails
      const queues = createQueues(config, connection);
      stops.push(async () => {
        await Promise.all([...queues.values()].map((q) => q.close()));
        connection.disconnect();
      });
      const relay = new OutboxRelay(db, queues, config, logger.child({ component: 'outbox-relay' }), metrics);
      await relay.start();
      stops.push(() => relay.stop());
    }

    let baseUrl: string | undefined;
    if (config.roles.includes('api')) {
      const app = createApp({
        db,
        writes: writeContext(),
        logger,
        publicBaseUrl: config.http.publicBaseUrl,
        maxBodySize: config.http.maxBodySize,
        version: CAREHUB_VERSION,
        metrics,
        terminologyServer: config.validation.terminologyServer ? new TerminologyServer(config.validation.terminologyServer) : undefined,
        guests: {
          db,
          homeserverUrl: config.matrix.homeserverUrl,
          serverName: config.matrix.serverName,
          synapseAdminTokenFile: config.cases.synapseAdminTokenFile,
          clientUrl: config.cases.guestClientUrl,
          timeZone: config.cases.timeZone,
          logger: logger.child({ component: 'case-guests' }),
        },
        auth: config.auth.enabled
          ? { signer: await tokenSignerFromFile(config.auth.signingKeyFile!, config.http.publicBaseUrl), tokenLifetimeSeconds: config.auth.tokenLifetimeSeconds }
          : undefined,
      });
      if (!config.auth.enabled) logger.warn('auth.enabled is false: every caller has full access to the FHIR API; run this hub only on a trusted network');
      const server = await listen(app, config.http.host, config.http.port);
      baseUrl = urlOf(server, config.http.host);
      stops.push(() => new Promise((resolve) => server.close(resolve)));
      logger.info({ baseUrl }, 'FHIR API listening');
    }
    readiness.markRunning();
    const stopRunning = async () => {
      readiness.markStopping(); // the load balancer stops sending work first
      await stop();
    };
    return { db, baseUrl, operatorUrl, bot, stop: stopRunning };
  } catch (error) {
    await stop();
    throw error;
  }
}
