/**
 * Case rooms end to end (cases issue): N cases opened by FHIR (POST CareTeam) on a hub in its own
 * process (authorization on, fresh database and bot), each until every one of the case's four
 * invitees' independent Matrix clients (own account, device, Rust crypto, cross-signed) has
 * decrypted the room's first message, the pinned summary. Throughput and p50/p99 latency from
 * the POST to the last of the four decrypting.
 * Baseline, in the same run, against the same Synapse and the same four clients: a bare
 * matrix-js-sdk bot (own account, a device logged in with its password, Rust crypto, as the
 * hub's bot) creating rooms of the same shape (encrypted, invite-only, history from the invite,
 * no guests, the same initial state with an `org.carehub.room` state event and the same power
 * levels, the same name, the same four invitees), then sending one encrypted message of the same
 * size and pinning it; as many rooms in the making at once as the hub has delivery workers.
 * It runs right before and right after the hub; the target compares the hub with their mean.
 * Target: hub ≥ 0.8× the baseline's throughput. Reports; never fails on the ratio.
 *   npm run bench:cases [-- --rooms 50 --concurrency 8 --delivery-concurrency 8]
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Bundle, CareTeam, Consent, FhirResource, Patient } from 'fhir/r4.js';
import { ClientEvent, createClient, EventType, MatrixEventEvent, Preset, SyncState, Visibility, type MatrixClient, type MatrixEvent } from 'matrix-js-sdk';
import { OnlySignedDevicesIsolationMode } from 'matrix-js-sdk/lib/crypto-api/index.js';
import pg from 'pg';
import { pino } from 'pino';
import { CAREHUB_ENDPOINT_CONNECTION_SYSTEM, configSchema, createDatabase, createStorageKey, generateSigningJwk, MATRIX_CONNECTION_CODE, parseConfig } from '@carehub/hub';
import { CASE_ROOM, casePowerLevels } from '@carehub/matrix-bridge';
import { CASE_ROLE } from '../../hub/src/cases/case-roles.js';
import { QUEUE_FOR_TOPIC } from '../../hub/src/queue/queues.js';
import { initialRoomState } from '../../matrix-bridge/src/room-settling.js';
import { quietSdkGlobalLogger, sdkLoggerFor } from '../../matrix-bridge/src/sdk-logger.js';
import { syncFilterWithTimelineLimit } from '../../matrix-bridge/src/sync-filter.js';
import { GpMatrixClient } from '../lib/gp-matrix-client.js';
import { HubProcess } from '../lib/hub-process.js';
import { connectSmartIntegrator, type SmartIntegrator } from '../lib/smart-integrator.js';
import { logOutMatrixSession, registerSynapseUser } from '../lib/synapse-user-registration.js';
import { readRegistrationSecret, readStackInfo } from '../stack-info.js';

const argument = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROOMS = argument('rooms', 50);
/** CareTeam POSTs in flight (they return before the room exists: the hub's workers set the pace). */
const POST_CONCURRENCY = argument('concurrency', 8);
// The hub's delivery workers (its default unless given): the baseline makes as many rooms at once.
const DELIVERY_CONCURRENCY = argument('delivery-concurrency', configSchema.shape.delivery.parse(undefined).concurrency);
const TIMEOUT_MS = Math.max(180_000, ROOMS * 5000);

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

/** Runs `count` jobs with at most `limit` in flight. */
async function bounded(count: number, limit: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

const until = async (what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

// ---------------------------------------------------------------------------------------------
// The four invitees: what each one's client decrypted, and when.

/** The case number a summary names on its first line ("📌 Case <number>"), as the hub writes it. */
const SUMMARY_START = '📌 Case ';

/** When one invitee's client first decrypted each case's summary, by case number, with the event's homeserver times. */
interface SummaryArrival {
  at: number;
  roomId: string;
  /** origin_server_ts of the summary, of the room's m.room.create and of its m.room.pinned_events (as this client has them). */
  sentTs: number;
}

class Invitee {
  readonly summaries = new Map<string, SummaryArrival>();

  private constructor(
    readonly role: string,
    readonly gp: GpMatrixClient,
  ) {
    gp.client.on(MatrixEventEvent.Decrypted, (event: MatrixEvent) => {
      if (event.isDecryptionFailure() || event.getType() !== EventType.RoomMessage) return;
      const body = event.getContent()['body'];
      if (typeof body !== 'string' || !body.startsWith(SUMMARY_START)) return;
      const caseNumber = body.slice(SUMMARY_START.length).split('\n', 1)[0]!;
      if (!this.summaries.has(caseNumber)) this.summaries.set(caseNumber, { at: Date.now(), roomId: event.getRoomId()!, sentTs: event.getTs() });
    });
  }

  /** Logs in (its own device), cross-signs it as Element does at a first login, syncs, and joins what it is invited to. */
  static async start(role: string): Promise<Invitee> {
    return new Invitee(role, await GpMatrixClient.start(stack.homeserverUrl, await register(`bench-case-${role}`)));
  }

  /** The origin_server_ts of a state event of a room, as this client's sync has it. */
  stateTs(roomId: string, type: string): number | undefined {
    return this.gp.client.getRoom(roomId)?.currentState.getStateEvents(type, '')?.getTs();
  }
}

/** When the last of the invitees decrypted a case's summary, or undefined while one has not. */
const allDecryptedAt = (invitees: Invitee[], caseNumber: string) => {
  const times = invitees.map((i) => i.summaries.get(caseNumber)?.at);
  return times.every((t) => t !== undefined) ? Math.max(...(times as number[])) : undefined;
};

async function untilAllDecrypted(invitees: Invitee[], caseNumbers: string[]): Promise<void> {
  await until(
    `every invitee decrypting the ${caseNumbers.length} summaries`,
    () => caseNumbers.every((n) => allDecryptedAt(invitees, n) !== undefined),
    TIMEOUT_MS,
  );
}

// ---------------------------------------------------------------------------------------------
// Results: throughput, latency, and where the time went.

/** Named stages of one room's timeline (ms since epoch), in order; each row of the breakdown is the time between two. */
type Marks = Record<string, number | undefined>;

interface Result {
  name: string;
  throughput: number;
  p50: number;
  p99: number;
  /** Per stage ("from → to"): p50 and p99 over the rooms. */
  stages: Array<{ stage: string; p50: number; p99: number }>;
}

function measure(name: string, invitees: Invitee[], startedAt: Map<string, number>, marks: Map<string, Marks>, stages: Array<[string, string]>): Result {
  const done = new Map([...startedAt.keys()].map((n) => [n, allDecryptedAt(invitees, n)!]));
  const latencies = [...startedAt].map(([n, t0]) => done.get(n)! - t0);
  const first = Math.min(...startedAt.values());
  const last = Math.max(...done.values());
  const rows = stages.map(([from, to]) => {
    const spans = [...marks.values()].flatMap((m) => (m[from] !== undefined && m[to] !== undefined ? [m[to]! - m[from]!] : []));
    return { stage: `${from} → ${to}`, p50: spans.length ? percentile(spans, 50) : NaN, p99: spans.length ? percentile(spans, 99) : NaN };
  });
  return { name, throughput: (startedAt.size / (last - first)) * 1000, p50: percentile(latencies, 50), p99: percentile(latencies, 99), stages: rows };
}

/** The homeserver's times for a room (from the moderator's client) and when the last invitee decrypted its summary. */
function roomMarks(invitees: Invitee[], caseNumber: string): Marks {
  const seen = invitees[0]!.summaries.get(caseNumber)!;
  return {
    'room created (m.room.create)': invitees[0]!.stateTs(seen.roomId, EventType.RoomCreate),
    'summary sent': seen.sentTs,
    pinned: invitees[0]!.stateTs(seen.roomId, 'm.room.pinned_events'),
    'first invitee decrypted': Math.min(...invitees.map((i) => i.summaries.get(caseNumber)!.at)),
    'all 4 decrypted': allDecryptedAt(invitees, caseNumber),
  };
}

// ---------------------------------------------------------------------------------------------
// What the case is: the person, their Consent, the CareTeam (as test/case-rooms.test.ts opens one).

const PERSON = { given: 'Ingrid', family: 'Halvorsen', birthDate: '1941-05-02' };
const REASON = 'Discharge planning after hip fracture';
const SERVICE = 'Care counselling';
const OFFICE_NAME = 'Pflegestützpunkt Nord';

interface Directory {
  office: string;
  /** "PractitionerRole/<id>" of the counsellor (the moderator), then of the three other participants. */
  counsellorRole: string;
  otherRoles: string[];
  /** "Organization/<id>" of the three other participants' organisations (the Consent covers them). */
  otherOrganizations: string[];
}

const transactionEntry = (fullUrl: string, resource: FhirResource) => ({ fullUrl, resource, request: { method: 'POST' as const, url: resource.resourceType } });

/** The county operator loads the network: the counselling office and three services, one person on Matrix in each. */
async function loadDirectory(operator: SmartIntegrator, invitees: Invitee[]): Promise<Directory> {
  const organizations = [OFFICE_NAME, 'Praxis Dr. Berg', 'Ambulanter Pflegedienst Elbe', 'Klinikum Süd'];
  const entries = invitees.flatMap((invitee, index) => {
    const urn = (n: number) => `urn:uuid:ca5e0000-0000-4000-8000-00000000${index}${n}00`;
    return [
      transactionEntry(urn(1), { resourceType: 'Organization', active: true, name: organizations[index]! }),
      transactionEntry(urn(2), { resourceType: 'Practitioner', active: true, name: [{ given: ['Bench'], family: invitee.role }] }),
      transactionEntry(urn(3), {
        resourceType: 'Endpoint',
        status: 'active',
        connectionType: { system: CAREHUB_ENDPOINT_CONNECTION_SYSTEM, code: MATRIX_CONNECTION_CODE },
        payloadType: [{ text: 'CareHub case rooms' }],
        address: `matrix:u/${invitee.gp.userId}`,
        managingOrganization: { reference: urn(1) },
      }),
      transactionEntry(urn(4), { resourceType: 'PractitionerRole', active: true, practitioner: { reference: urn(2) }, organization: { reference: urn(1) }, endpoint: [{ reference: urn(3) }], code: [{ text: invitee.role }] }),
    ];
  });
  const answer = await operator.request<Bundle>('POST', '', { resourceType: 'Bundle', type: 'transaction', entry: entries } satisfies Bundle);
  if (answer.status !== 200) throw new Error(`directory: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
  const created = answer.body.entry!.map((e) => e.resource!);
  const organization = (index: number) => `Organization/${created[index * 4]!.id}`;
  const role = (index: number) => `PractitionerRole/${created[index * 4 + 3]!.id}`;
  return { office: organization(0), counsellorRole: role(0), otherRoles: [1, 2, 3].map(role), otherOrganizations: [1, 2, 3].map(organization) };
}

function consent(directory: Directory, patient: string): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: { reference: patient },
    dateTime: new Date(Date.now() - 60_000).toISOString(),
    organization: [{ reference: directory.office }],
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      actor: directory.otherOrganizations.map((reference) => ({ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { reference } })),
    },
  };
}

/** The counsellor as moderator, the three others as participants: four invitees. */
function careTeam(directory: Directory, patient: string, caseNumber: string): CareTeam {
  return {
    resourceType: 'CareTeam',
    status: 'active',
    identifier: [{ system: 'urn:example:county-cases', value: caseNumber }],
    category: [{ text: SERVICE }],
    subject: { reference: patient },
    period: { start: new Date().toISOString() },
    managingOrganization: [{ reference: directory.office }],
    reasonCode: [{ text: REASON }],
    participant: [
      { role: [{ coding: [CASE_ROLE.moderator] }], member: { reference: directory.counsellorRole } },
      ...directory.otherRoles.map((reference) => ({ member: { reference } })),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// The hub: POST CareTeam → outbox → queue → the bot settles the room → Synapse → four clients.

async function benchmarkHub(invitees: Invitee[]): Promise<Result> {
  const admin = new pg.Client({ connectionString: stack.databaseUrl });
  await admin.connect();
  const databaseName = `carehub_bench_cases_${run}`;
  await admin.query(`CREATE DATABASE ${databaseName}`);
  const databaseUrl = stack.databaseUrl.replace(/\/[^/]+$/, `/${databaseName}`);
  const dir = mkdtempSync(join(tmpdir(), 'carehub-bench-cases-'));
  const bot = await register('bench-case-hub-bot');
  await logOutMatrixSession(stack.homeserverUrl, bot.accessToken);
  writeFileSync(join(dir, 'bot-password'), bot.password, { mode: 0o600 });
  writeFileSync(join(dir, 'device.key'), randomBytes(32).toString('hex'), { mode: 0o600 });
  writeFileSync(join(dir, 'token-signing.jwk'), JSON.stringify(await generateSigningJwk()), { mode: 0o600 });
  await createStorageKey(join(dir, 'storage-keys'));
  const queuePrefix = `carehub-bench-cases-${run}`;
  // The hub's defaults for everything that sets its pace (outbox relay, delivery, key sharing
  // with cross-signed devices only), but the delivery workers the run was given.
  const rawConfig = {
    http: { host: '127.0.0.1', port: 18_083, publicBaseUrl: 'http://127.0.0.1:18083', operator: { host: '127.0.0.1', port: 0 } },
    database: { url: databaseUrl, poolSize: 10 },
    redis: { url: stack.redisUrl, queuePrefix },
    matrix: {
      homeserverUrl: stack.homeserverUrl,
      serverName: stack.serverName,
      bot: { userId: bot.userId, passwordFile: join(dir, 'bot-password') },
      deviceStore: { path: join(dir, 'device.bin'), keyFile: join(dir, 'device.key') },
    },
    documents: { storageKeyDir: join(dir, 'storage-keys') },
    delivery: { concurrency: DELIVERY_CONCURRENCY },
    auth: { enabled: true, signingKeyFile: join(dir, 'token-signing.jwk'), tokenLifetimeSeconds: 3600 },
    log: { level: 'info' },
  };
  parseConfig(rawConfig);
  const configFile = join(dir, 'bench-cases.yaml');
  writeFileSync(configFile, JSON.stringify(rawConfig));
  const warnings: string[] = [];
  const settled: Array<{ careTeamId: string; created: boolean }> = [];
  const db = createDatabase(databaseUrl, 2);
  const redis = new Redis(stack.redisUrl, { maxRetriesPerRequest: null });
  let hub: HubProcess | undefined;
  try {
    hub = await HubProcess.start(configFile, 'bench-cases', {
      waitForApi: true,
      logTo: (line) => {
        try {
          const entry = JSON.parse(line) as { level?: number; msg?: string; careTeamId?: string; created?: boolean };
          if ((entry.level ?? 0) >= 40) warnings.push(entry.msg ?? line);
          if (entry.msg === 'case room settled') settled.push({ careTeamId: entry.careTeamId!, created: entry.created === true });
        } catch {
          // not a log line
        }
      },
    });
    const operator = await connectSmartIntegrator(db, hub.baseUrl!, { clientId: `county-operator-${run}`, organization: 'Organization/county', roles: ['operator'] });
    const directory = await loadDirectory(operator, invitees);
    const office = await connectSmartIntegrator(db, hub.baseUrl!, { clientId: `office-case-system-${run}`, organization: directory.office });
    // Every case about a person of its own, each with a Consent, recorded before the clock starts.
    const patients: string[] = [];
    await bounded(ROOMS, POST_CONCURRENCY, async (i) => {
      const patient: Patient = { resourceType: 'Patient', name: [{ given: [PERSON.given], family: PERSON.family }], birthDate: PERSON.birthDate };
      const created = await office.request<{ id: string }>('POST', 'Patient', patient);
      if (created.status !== 201) throw new Error(`Patient: HTTP ${created.status}`);
      patients[i] = `Patient/${created.body.id}`;
      const recorded = await office.request('POST', 'Consent', consent(directory, patients[i]));
      if (recorded.status !== 201) throw new Error(`Consent: HTTP ${recorded.status} ${JSON.stringify(recorded.body)}`);
    });

    const startedAt = new Map<string, number>();
    const answeredAt = new Map<string, number>();
    const careTeamOf = new Map<string, string>();
    await bounded(ROOMS, POST_CONCURRENCY, async (i) => {
      const caseNumber = `HUB-${run}-${i}`;
      startedAt.set(caseNumber, Date.now());
      const opened = await office.request<{ id: string }>('POST', 'CareTeam', careTeam(directory, patients[i]!, caseNumber));
      answeredAt.set(caseNumber, Date.now());
      if (opened.status !== 201) throw new Error(`CareTeam: HTTP ${opened.status} ${JSON.stringify(opened.body)}`);
      careTeamOf.set(caseNumber, opened.body.id);
    });
    await untilAllDecrypted(invitees, [...startedAt.keys()]);
    // A job finishes (its database transaction) a little after its summary is pinned, and may
    // after the clients decrypted it: the breakdown below reads the finished jobs.
    await until('every case.settle job finished', async () => (await db.query(`SELECT 1 FROM outbox WHERE topic = 'case.settle' AND completed_at IS NULL`)).rowCount === 0);

    // Where the hub's time went: the BullMQ job (queued by the outbox relay, picked up by a
    // worker, finished) and the homeserver's own times for the room. (Not the outbox row's
    // published_at: the relay sets it again when it republishes a row still open after
    // outbox.republishAfterMs, which rows waiting in a long queue are.)
    const settleRows = (await db.query<{ count: string }>(`SELECT count(*) FROM outbox WHERE topic = 'case.settle'`)).rows[0]!.count;
    const queue = new Queue(QUEUE_FOR_TOPIC['case.settle'], { connection: redis, prefix: queuePrefix });
    const jobs = (await queue.getJobs(['completed', 'failed'], 0, -1)).filter((job) => job.name === 'case.settle');
    // A job names its outbox row only; the row says which case it settles.
    const caseOfRow = new Map(
      (await db.query<{ id: string; care_team_id: string }>(`SELECT id::text, payload ->> 'careTeamId' AS care_team_id FROM outbox WHERE topic = 'case.settle'`)).rows.map((row) => [row.id, row.care_team_id]),
    );
    const firstJob = new Map<string, { timestamp: number; processedOn?: number; finishedOn?: number }>();
    for (const job of jobs.sort((a, b) => (a.processedOn ?? 0) - (b.processedOn ?? 0))) {
      const careTeamId = caseOfRow.get((job.data as { outboxId: string }).outboxId);
      if (careTeamId && !firstJob.has(careTeamId)) firstJob.set(careTeamId, job);
    }
    await queue.close();
    const marks = new Map(
      [...startedAt].map(([caseNumber, t0]) => {
        const careTeamId = careTeamOf.get(caseNumber)!;
        const job = firstJob.get(careTeamId);
        return [
          caseNumber,
          {
            'POST sent': t0,
            'POST answered (201)': answeredAt.get(caseNumber),
            'job queued': job?.timestamp,
            'worker took the job': job?.processedOn,
            ...roomMarks(invitees, caseNumber),
            'job finished': job?.finishedOn,
          } satisfies Marks,
        ];
      }),
    );
    const result = measure('hub: POST CareTeam → case room, summary pinned', invitees, startedAt, marks, [
      ['POST sent', 'POST answered (201)'],
      ['POST sent', 'job queued'],
      ['job queued', 'worker took the job'],
      ['worker took the job', 'room created (m.room.create)'],
      ['room created (m.room.create)', 'summary sent'],
      ['summary sent', 'pinned'],
      ['pinned', 'job finished'],
      ['summary sent', 'first invitee decrypted'],
      ['summary sent', 'all 4 decrypted'],
      ['worker took the job', 'job finished'],
      // The hub's latency without its queue: comparable with the baseline's (createRoom sent → all 4 decrypted).
      ['worker took the job', 'all 4 decrypted'],
    ]);
    console.log(`\nhub: ${settleRows} case.settle outbox rows for ${ROOMS} CareTeams; ${settled.filter((s) => s.created).length} rooms created, ${settled.filter((s) => !s.created).length} settles of a room that existed; ${warnings.length} warnings logged${warnings.length ? `: ${[...new Set(warnings)].slice(0, 5).join(' | ')}` : ''}`);
    return result;
  } finally {
    await db.end();
    await hub?.stop();
    // The run's queues leave nothing behind in the shared Redis.
    for (const name of new Set(Object.values(QUEUE_FOR_TOPIC))) {
      const queue = new Queue(name, { connection: redis, prefix: queuePrefix });
      await queue.obliterate({ force: true });
      await queue.close();
    }
    redis.disconnect();
    await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await admin.end();
  }
}

// ---------------------------------------------------------------------------------------------
// The baseline: a bare matrix-js-sdk bot making rooms of the same shape, no hub, no FHIR.

/** Logs in a device with the account's password (as the hub's bot does), Rust crypto, cross-signed, keys only for cross-signed devices. */
async function startBareBot(): Promise<MatrixClient> {
  const account = await register('bench-case-bare-bot');
  await logOutMatrixSession(stack.homeserverUrl, account.accessToken);
  const logger = sdkLoggerFor(pino({ level: 'error' }));
  const login = await createClient({ baseUrl: stack.homeserverUrl, logger }).loginRequest({
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: account.userId },
    password: account.password,
    initial_device_display_name: 'bare matrix-js-sdk bot',
  });
  const bot = createClient({ baseUrl: stack.homeserverUrl, userId: login.user_id, deviceId: login.device_id, accessToken: login.access_token, logger });
  await bot.initRustCrypto({ useIndexedDB: false });
  await bot.getCrypto()!.bootstrapCrossSigning({ authUploadDeviceSigningKeys: async (makeRequest) => void (await makeRequest(null)) });
  bot.getCrypto()!.setDeviceIsolationMode(new OnlySignedDevicesIsolationMode());
  const synced = new Promise<void>((resolve) => {
    const onSync = (state: SyncState) => {
      if (state !== SyncState.Prepared) return;
      bot.off(ClientEvent.Sync, onSync);
      resolve();
    };
    bot.on(ClientEvent.Sync, onSync);
  });
  // As the hub's bot syncs: every member (no lazy loading), up to 1000 events per room.
  await bot.startClient({ initialSyncLimit: 50, lazyLoadMembers: false, filter: syncFilterWithTimelineLimit(login.user_id, 1000) });
  await synced;
  return bot;
}

/** The summary the hub would write for the case: same lines, same size. */
const summaryBody = (caseNumber: string) =>
  [`${SUMMARY_START}${caseNumber}`, `About: ${PERSON.given} ${PERSON.family} (born ${PERSON.birthDate})`, `Reason: ${REASON}`, `Run by: ${OFFICE_NAME}`, 'Type "!help" for what moderators and members can do here.'].join('\n');

async function benchmarkBaseline(name: string, bot: MatrixClient, invitees: Invitee[], label: string): Promise<Result> {
  const botId = bot.getUserId()!;
  const [counsellor, ...others] = invitees.map((i) => i.gp.userId);
  const members = [counsellor!, ...others];
  // The levels the hub gives this case: the counsellor moderates; all four are staff (none is a guest).
  const powerLevels = casePowerLevels(botId, { moderators: [counsellor!], staff: [...members].sort(), muted: [], locked: false, mutedAllButStaff: false });
  const startedAt = new Map<string, number>();
  const marks = new Map<string, Marks>();
  await bounded(ROOMS, DELIVERY_CONCURRENCY, async (i) => {
    const caseNumber = `${label}-${run}-${i}`;
    const t0 = Date.now();
    startedAt.set(caseNumber, t0);
    const { room_id: roomId } = await bot.createRoom({
      visibility: Visibility.Private,
      preset: Preset.PrivateChat,
      room_alias_name: `bench-case-${label.toLowerCase()}-${run}-${i}`,
      name: `Case ${caseNumber} · ${SERVICE}`,
      invite: members,
      initial_state: initialRoomState(CASE_ROOM.membership, { kind: 'case', careTeam: `CareTeam/${caseNumber}` }),
      power_level_content_override: powerLevels,
    });
    const createdAt = Date.now();
    // The Rust crypto shares the room key with the members its sync shows: wait for all four, encrypted.
    await until(`room ${roomId} in the bare bot's sync, encrypted, with its four invitees`, async () => {
      const room = bot.getRoom(roomId);
      const present = new Set(room?.getMembers().filter((m) => m.membership === 'invite' || m.membership === 'join').map((m) => m.userId));
      return members.every((u) => present.has(u)) && (await bot.getCrypto()!.isEncryptionEnabledInRoom(roomId));
    });
    const readyAt = Date.now();
    const { event_id: eventId } = await bot.sendEvent(roomId, EventType.RoomMessage, { msgtype: 'm.notice', body: summaryBody(caseNumber) } as never);
    await bot.sendStateEvent(roomId, 'm.room.pinned_events' as never, { pinned: [eventId] } as never, '');
    marks.set(caseNumber, { 'createRoom sent': t0, 'createRoom answered': createdAt, "in the bot's sync, encrypted, 4 invited": readyAt, 'pin answered': Date.now() });
  });
  await untilAllDecrypted(invitees, [...startedAt.keys()]);
  for (const [caseNumber, m] of marks) Object.assign(m, roomMarks(invitees, caseNumber));
  return measure(name, invitees, startedAt, marks, [
    ['createRoom sent', 'room created (m.room.create)'],
    ['createRoom sent', 'createRoom answered'],
    ['createRoom answered', "in the bot's sync, encrypted, 4 invited"],
    ['room created (m.room.create)', 'summary sent'],
    ['summary sent', 'pinned'],
    ['summary sent', 'first invitee decrypted'],
    ['summary sent', 'all 4 decrypted'],
    ['createRoom sent', 'pin answered'],
    ['createRoom sent', 'all 4 decrypted'],
  ]);
}

// ---------------------------------------------------------------------------------------------

const fmt = (ms: number) => (Number.isNaN(ms) ? '–' : String(Math.round(ms)));

quietSdkGlobalLogger();
const invitees: Invitee[] = [];
let bareBot: MatrixClient | undefined;
try {
  // The counsellor first: the moderator, in the counselling office that runs the cases.
  for (const role of ['counsellor', 'gp', 'nurse', 'clinic']) invitees.push(await Invitee.start(role));
  bareBot = await startBareBot();
  // Baseline right before and right after the hub (rooms of their own each time), so a
  // homeserver that slows as the clients gather rooms, or a noisy machine, weighs on both sides alike.
  const before = await benchmarkBaseline('baseline: bare matrix-js-sdk (before the hub)', bareBot, invitees, 'BASE');
  const hub = await benchmarkHub(invitees);
  const after = await benchmarkBaseline('baseline: the same (after the hub)', bareBot, invitees, 'AFTER');
  console.log(`\nCase-room benchmark, ${new Date().toISOString()}: ${ROOMS} rooms each, 4 invitees per room (the counsellor as moderator, the GP, the nurse, the clinic doctor;`);
  console.log(`the same 4 accounts, each its own client, Rust crypto, cross-signed). Hub: ${POST_CONCURRENCY} CareTeam POSTs in flight, ${DELIVERY_CONCURRENCY} delivery workers;`);
  console.log(`baseline: ${DELIVERY_CONCURRENCY} rooms in the making at once (create → pin). Latency: POST (baseline: createRoom) → the last of the 4 clients decrypts the summary.\n`);
  console.log(`${'run'.padEnd(50)}  rooms/s    p50 ms    p99 ms`);
  for (const r of [hub, before, after]) console.log(`${r.name.padEnd(50)} ${r.throughput.toFixed(2).padStart(7)}   ${fmt(r.p50).padStart(7)}   ${fmt(r.p99).padStart(7)}`);
  const baseline = (before.throughput + after.throughput) / 2;
  const ratio = hub.throughput / baseline;
  console.log(`\nthroughput hub/baseline (mean of before and after, ${baseline.toFixed(2)} rooms/s): ${ratio.toFixed(2)}× (target ≥ 0.8×) → ${ratio >= 0.8 ? 'met' : 'NOT met'}`);
  console.log(`  against the baseline before: ${(hub.throughput / before.throughput).toFixed(2)}×, after: ${(hub.throughput / after.throughput).toFixed(2)}×`);
  for (const r of [hub, before, after]) {
    console.log(`\nwhere the time went, ${r.name} (p50 / p99 ms per room):`);
    for (const s of r.stages) console.log(`  ${s.stage.padEnd(70)} ${fmt(s.p50).padStart(7)} / ${fmt(s.p99).padStart(7)}`);
  }
} finally {
  bareBot?.stopClient();
  for (const invitee of invitees) invitee.gp.stop();
}
process.exit(0);
