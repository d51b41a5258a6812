/**
 * Referrals end to end (referral issue): N referrals POSTed to the hub (its own process) until
 * the GP's independent Matrix client has decrypted each one; throughput and p50/p99 latency from
 * POST to decrypted arrival. Baseline, in the same run against the same Synapse: a bare
 * matrix-js-sdk sender (Rust crypto, no hub, no FHIR) sending N encrypted messages of the same
 * shape and size (a text message with the referral's FHIR inline) to the same GP client in one encrypted room,
 * as many in flight as the hub's delivery workers, with the SDK as it comes (its scheduler sends
 * one message at a time, as the hub's bot does). For context: the same without the scheduler,
 * and one new room per message (what a room per referral would cost).
 * Target: hub ≥ 0.8× the one-room baseline's throughput. Reports; never fails on the ratio.
 *   npm run bench:referrals [-- --count 500 --concurrency 16 --delivery-concurrency 8 --room-per-message-count 100]
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, BundleEntry, FhirResource } from 'fhir/r4.js';
import { createClient, MatrixClient, MemoryStore, Preset } from 'matrix-js-sdk';
import pg from 'pg';
import { pino } from 'pino';
import { CAREHUB_ENDPOINT_CONNECTION_SYSTEM, configSchema, createStorageKey, MATRIX_CONNECTION_CODE, parseConfig } from '@carehub/hub';
import { REFERRAL_PAYLOAD_STRUCTURE } from '../../hub/src/delivery/referral-fhir-payload.js';
import { CAREHUB_MESSAGE_KEY, renderReferralMessage } from '@carehub/matrix-bridge';
import { quietSdkGlobalLogger, sdkLoggerFor } from '../../matrix-bridge/src/sdk-logger.js';
import { logOutMatrixSession, registerSynapseUser } from '../lib/synapse-user-registration.js';
import { GpMatrixClient, referralTaskOf } from '../lib/gp-matrix-client.js';
import { HubProcess } from '../lib/hub-process.js';
import { readRegistrationSecret, readStackInfo } from '../stack-info.js';

const argument = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const COUNT = argument('count', 500);
// The room-per-message context only shows what a room per referral costs; it is the slowest part
// by far (and slows as the GP's client gathers rooms), so it runs a smaller count.
const ROOM_PER_MESSAGE_COUNT = argument('room-per-message-count', Math.min(COUNT, 100));
const POST_CONCURRENCY = argument('concurrency', 16);
// The hub's delivery workers (its default unless given): the baselines keep as many sends in flight.
const DELIVERY_CONCURRENCY = argument('delivery-concurrency', configSchema.shape.delivery.parse(undefined).concurrency);
const TIMEOUT_MS = Math.max(120_000, COUNT * 2000);

const stack = readStackInfo();
const run = randomBytes(3).toString('hex');
const register = async (name: string) => {
  const password = randomUUID();
  const user = await registerSynapseUser({ homeserverUrl: stack.homeserverUrl, sharedSecret: readRegistrationSecret(stack), localpart: `${name}-${run}`, password });
  return { ...user, password };
};

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

interface Result {
  name: string;
  throughput: number;
  p50: number;
  p99: number;
  /** Mean size of the decrypted message content (JSON), to show the messages are alike. */
  messageBytes: number;
}

/** Runs `count` jobs with at most `limit` in flight. */
async function bounded(count: number, limit: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

async function waitForArrivals(gp: GpMatrixClient, markers: string[]): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (markers.some((m) => !gp.arrivals.has(m))) {
    if (Date.now() > deadline) throw new Error(`only ${markers.filter((m) => gp.arrivals.has(m)).length} of ${markers.length} arrived in time`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function measure(name: string, gp: GpMatrixClient, sentAt: Map<string, number>): Result {
  const latencies = [...sentAt].map(([marker, t0]) => gp.arrivals.get(marker)! - t0);
  const first = Math.min(...sentAt.values());
  const last = Math.max(...[...sentAt.keys()].map((m) => gp.arrivals.get(m)!));
  const messages = gp.decrypted.filter((e) => sentAt.has(referralTaskOf(e) ?? ''));
  const messageBytes = Math.round(messages.reduce((sum, e) => sum + JSON.stringify(e.getContent()).length, 0) / messages.length);
  return { name, throughput: (sentAt.size / (last - first)) * 1000, p50: percentile(latencies, 50), p99: percentile(latencies, 99), messageBytes };
}

const entry = (fullUrl: string, resource: FhirResource): BundleEntry => ({ fullUrl, resource, request: { method: 'POST', url: resource.resourceType } });

function referral(owner: string, i: number): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      entry('urn:uuid:00000000-0000-4000-8000-000000000001', { resourceType: 'Patient', name: [{ family: 'Nielsen', given: ['Ole'] }], birthDate: '1948-03-14' }),
      entry('urn:uuid:00000000-0000-4000-8000-000000000002', {
        resourceType: 'ServiceRequest',
        status: 'active',
        intent: 'order',
        priority: 'routine',
        code: { text: 'Home-care assessment' },
        reasonCode: [{ text: `Benchmark referral ${i}` }],
        subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000001' },
      }),
      entry('urn:uuid:00000000-0000-4000-8000-000000000003', {
        resourceType: 'Task',
        status: 'requested',
        intent: 'order',
        focus: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000002' },
        requester: { display: 'Benchmark clinic' },
        owner: { reference: owner },
      }),
    ],
  };
}

/** The hub: FHIR POST → outbox → queue → bot → Synapse → the GP's client. */
async function benchmarkHub(gp: GpMatrixClient): Promise<Result> {
  const admin = new pg.Client({ connectionString: stack.databaseUrl });
  await admin.connect();
  const databaseName = `carehub_bench_${run}`;
  await admin.query(`CREATE DATABASE ${databaseName}`);
  const dir = mkdtempSync(join(tmpdir(), 'carehub-bench-referrals-'));
  const bot = await register('bench-bot');
  await logOutMatrixSession(stack.homeserverUrl, bot.accessToken);
  writeFileSync(join(dir, 'bot-password'), bot.password, { mode: 0o600 });
  writeFileSync(join(dir, 'device.key'), randomBytes(32).toString('hex'), { mode: 0o600 });
  await createStorageKey(join(dir, 'storage-keys'));
  const rawConfig = {
    http: { host: '127.0.0.1', port: 18_082, publicBaseUrl: 'http://127.0.0.1:18082', operator: { host: '127.0.0.1', port: 0 } },
    database: { url: stack.databaseUrl.replace(/\/[^/]+$/, `/${databaseName}`), poolSize: 10 },
    redis: { url: stack.redisUrl, queuePrefix: `carehub-bench-${run}` },
    matrix: {
      homeserverUrl: stack.homeserverUrl,
      serverName: stack.serverName,
      bot: { userId: bot.userId, passwordFile: join(dir, 'bot-password') },
      deviceStore: { path: join(dir, 'device.bin'), keyFile: join(dir, 'device.key') },
    },
    documents: { storageKeyDir: join(dir, 'storage-keys') },
    delivery: { concurrency: DELIVERY_CONCURRENCY, backoffMs: 200, maxBackoffMs: 2000 },
    outbox: { pollIntervalMs: 200 },
    auth: { enabled: false },
  };
  parseConfig(rawConfig);
  const hub = await HubProcess.startWithConfig(dir, 'bench-referrals', rawConfig, { waitForApi: true });
  try {
    const post = async (body: unknown) => {
      const response = await fetch(`${hub.baseUrl}/fhir`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
      if (!response.ok) throw new Error(`POST: HTTP ${response.status} ${await response.text()}`);
      return (await response.json()) as Bundle;
    };
    // The GP's practice in the directory: a PractitionerRole whose Endpoint is the GP's Matrix address.
    const practice = await post({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        entry('urn:uuid:10000000-0000-4000-8000-000000000001', {
          resourceType: 'Endpoint',
          status: 'active',
          connectionType: { system: CAREHUB_ENDPOINT_CONNECTION_SYSTEM, code: MATRIX_CONNECTION_CODE },
          payloadType: [{ text: 'CareHub referral messages' }],
          address: `matrix:u/${gp.userId}`,
        }),
        entry('urn:uuid:10000000-0000-4000-8000-000000000002', { resourceType: 'PractitionerRole', active: true, endpoint: [{ reference: 'urn:uuid:10000000-0000-4000-8000-000000000001' }] }),
      ],
    });
    const owner = practice.entry!.find((e) => e.resource?.resourceType === 'PractitionerRole')!.resource!;
    const sentAt = new Map<string, number>();
    await bounded(COUNT, POST_CONCURRENCY, async (i) => {
      const t0 = Date.now();
      const response = await post(referral(`PractitionerRole/${owner.id}`, i));
      sentAt.set(`Task/${response.entry!.find((e) => e.resource?.resourceType === 'Task')!.resource!.id}`, t0);
    });
    await waitForArrivals(gp, [...sentAt.keys()]);
    return measure('hub: FHIR POST → Matrix, pair room', gp, sentAt);
  } finally {
    await hub.stop();
    await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await admin.end();
  }
}

const until = async (what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/**
 * The same readable message the hub sends for a referral (same size, same fields), with a task
 * marker of the baseline's own, so the GP's client times its arrival the same way.
 */
const baselineMessage = (i: number, bundle: Bundle) =>
  renderReferralMessage({
    taskId: `baseline-${run}-${i}`,
    serviceRequestId: `baseline-${run}-${i}`,
    patient: { name: 'Ole Nielsen', birthDate: '1948-03-14' },
    request: 'Home-care assessment',
    reason: `Benchmark referral ${i}`,
    priority: 'routine',
    requester: 'Benchmark clinic',
  }, bundle, REFERRAL_PAYLOAD_STRUCTURE);

/** The baseline's messages carry the referral's FHIR inline as the hub's do (same shape, about the same size). */
const baselineBundle = (): Bundle => ({
  resourceType: 'Bundle',
  type: 'collection',
  timestamp: new Date().toISOString(),
  entry: referral('PractitionerRole/baseline', 0).entry!.map((e) => ({ resource: { ...e.resource!, id: randomUUID(), meta: { versionId: '1', lastUpdated: new Date().toISOString() } } as FhirResource })),
});

/**
 * A bare matrix-js-sdk client: its own account and device, Rust crypto, no hub, no FHIR. As
 * createClient makes it (with the SDK's scheduler), or, with `scheduler: false`, sending side by
 * side as the hub's bot does.
 */
async function startBareSender(options: { scheduler: boolean }): Promise<MatrixClient> {
  const user = await register(options.scheduler ? 'bench-sender' : 'bench-sender-unscheduled');
  const clientOptions = {
    baseUrl: stack.homeserverUrl,
    userId: user.userId,
    deviceId: user.deviceId,
    accessToken: user.accessToken,
    logger: sdkLoggerFor(pino({ level: 'error' })),
  };
  const sender = options.scheduler ? createClient(clientOptions) : new MatrixClient({ ...clientOptions, store: new MemoryStore() });
  await sender.initRustCrypto({ useIndexedDB: false });
  await sender.startClient({ initialSyncLimit: 1, lazyLoadMembers: false });
  await until('the baseline sender syncs', () => sender.isInitialSyncComplete());
  return sender;
}

/** An encrypted room with the GP invited, set up as the hub sets up a referral room. */
async function createEncryptedRoomWith(sender: MatrixClient, gp: GpMatrixClient): Promise<string> {
  const { room_id: roomId } = await sender.createRoom({
    preset: Preset.PrivateChat,
    invite: [gp.userId],
    initial_state: [
      { type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } },
      { type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'invited' } },
    ],
  });
  // As the hub does: the sender shares the room key only with the members its sync has shown it.
  await until(`room ${roomId} in the sender's sync with the GP invited`, async () =>
    ['invite', 'join'].includes(sender.getRoom(roomId)?.getMember(gp.userId)?.membership ?? '') && (await sender.getCrypto()!.isEncryptionEnabledInRoom(roomId)),
  );
  return roomId;
}

/** Baseline: every message into one encrypted room the GP has already joined. */
async function benchmarkOneRoom(sender: MatrixClient, gp: GpMatrixClient, inFlight: number, name: string, first: number): Promise<Result> {
  const roomId = await createEncryptedRoomWith(sender, gp);
  await until('the GP joins the baseline room', () => sender.getRoom(roomId)?.getMember(gp.userId)?.membership === 'join');
  const bundle = baselineBundle();
  const sentAt = new Map<string, number>();
  await bounded(COUNT, inFlight, async (i) => {
    const content = baselineMessage(first + i, bundle);
    sentAt.set(content[CAREHUB_MESSAGE_KEY].task, Date.now());
    await sender.sendEvent(roomId, 'm.room.message' as never, content as never);
  });
  await waitForArrivals(gp, [...sentAt.keys()]);
  return measure(name, gp, sentAt);
}

/** Context: one new room per message (create, invite, send), what a room per referral would cost. */
async function benchmarkRoomPerMessage(sender: MatrixClient, gp: GpMatrixClient, inFlight: number): Promise<Result> {
  const bundle = baselineBundle();
  const sentAt = new Map<string, number>();
  await bounded(ROOM_PER_MESSAGE_COUNT, inFlight, async (i) => {
    const content = baselineMessage(3 * COUNT + i, bundle);
    sentAt.set(content[CAREHUB_MESSAGE_KEY].task, Date.now());
    const roomId = await createEncryptedRoomWith(sender, gp);
    await sender.sendEvent(roomId, 'm.room.message' as never, content as never);
  });
  await waitForArrivals(gp, [...sentAt.keys()]);
  return measure(`context: bare matrix-js-sdk, room per message (${ROOM_PER_MESSAGE_COUNT})`, gp, sentAt);
}

quietSdkGlobalLogger();
const gp = await GpMatrixClient.start(stack.homeserverUrl, await register('bench-gp'));
const sender = await startBareSender({ scheduler: true });
const unscheduled = await startBareSender({ scheduler: false });
try {
  // The baseline runs right before and right after the hub (each in a room of its own), so a
  // homeserver that slows as it fills up, or a noisy machine, weighs on both sides alike; the
  // target compares the hub with their mean. The room-per-message context runs last, since each
  // of its rooms leaves the GP's client one room more to sync.
  const before = await benchmarkOneRoom(sender, gp, DELIVERY_CONCURRENCY, 'baseline: bare matrix-js-sdk, one room (before)', 0);
  const hub = await benchmarkHub(gp);
  const after = await benchmarkOneRoom(sender, gp, DELIVERY_CONCURRENCY, 'baseline: the same (after the hub)', COUNT);
  const unscheduledRoom = await benchmarkOneRoom(unscheduled, gp, DELIVERY_CONCURRENCY, 'context: the same, no SDK scheduler', 2 * COUNT);
  const roomPerMessage = await benchmarkRoomPerMessage(sender, gp, DELIVERY_CONCURRENCY);
  console.log(`\nReferral benchmark: ${COUNT} referrals (${POST_CONCURRENCY} POSTs in flight, hub delivery concurrency ${DELIVERY_CONCURRENCY}) against`);
  console.log(`${COUNT} messages from a bare matrix-js-sdk sender (${DELIVERY_CONCURRENCY} sends in flight); same Synapse, same GP client, same run`);
  console.log(`latency: POST (or send) start → the GP's client decrypts the referral's message\n`);
  console.log(`${'run'.padEnd(52)}   msg/s    p50 ms    p99 ms   message bytes`);
  for (const r of [hub, before, after, unscheduledRoom, roomPerMessage]) {
    console.log(`${r.name.padEnd(52)} ${r.throughput.toFixed(1).padStart(7)}   ${String(r.p50).padStart(7)}   ${String(r.p99).padStart(7)}   ${String(r.messageBytes).padStart(13)}`);
  }
  const baseline = (before.throughput + after.throughput) / 2;
  const ratio = hub.throughput / baseline;
  console.log(`\nthroughput hub/baseline (one room, mean of before and after, ${baseline.toFixed(1)} msg/s): ${ratio.toFixed(2)}× (target ≥ 0.8×) → ${ratio >= 0.8 ? 'met' : 'NOT met'}`);
  console.log(`  against the baseline before: ${(hub.throughput / before.throughput).toFixed(2)}×, after: ${(hub.throughput / after.throughput).toFixed(2)}×`);
} finally {
  sender.stopClient();
  unscheduled.stopClient();
  gp.stop();
}
process.exit(0);
