import type { Bundle } from 'fhir/r4.js';
import pg from 'pg';
import { GpMatrixClient } from '../ops/lib/gp-matrix-client.js';
import { HubProcess } from '../ops/lib/hub-process.js';
import { TypedFhirClient } from '../ops/lib/typed-fhir-client.js';
import { gpPracticeBundle, idOf, referralBundle } from './support/fhir-fixtures.js';
import { redisIsUp, restartRedisLosingEverything, startSynapse, stopSynapse } from './support/stack-faults.js';
import { createTestDatabase, createTestHubConfig, registerTestUser, stack } from './support/test-stack.js';
import { waitFor } from './support/wait-for.js';

// Faults delay referrals; they never lose or duplicate one. The homeserver goes away for 30 s in
// the middle of a burst, and Redis restarts with nothing in it: every referral still arrives at
// the GP's own client exactly once.
const FAULT_TEST_TIMEOUT = 240_000;
// Three times the delivery workers (8): the burst shares one room, so sends into it are in flight at every fault.
const BURST = 24;
/** A referral is one event: a text message carrying its FHIR inline. */
const EVENTS_PER_REFERRAL = 1;

let gp: GpMatrixClient;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let setup: Awaited<ReturnType<typeof createTestHubConfig>>;
let db: pg.Pool;
let hub: HubProcess;
let fhir: TypedFhirClient;
let roleId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  db = new pg.Pool({ connectionString: database.url, max: 2 });
  setup = await createTestHubConfig(database.url, {
    outbox: { pollIntervalMs: 200, republishAfterMs: 3000 },
    // Short, capped backoff: the test waits for the first attempt after the outage, not for a long timer.
    delivery: { attempts: 100, backoffMs: 200, maxBackoffMs: 3000, lockDurationMs: 5000 },
  });
  hub = await HubProcess.startWithConfig(setup.dir, 'faults', setup.raw, { waitForApi: true });
  fhir = new TypedFhirClient(`${hub.baseUrl}/fhir`);
  gp = await GpMatrixClient.start(stack.homeserverUrl, await registerTestUser('gp-faults'));
  roleId = idOf(await fhir.transaction(gpPracticeBundle(gp.userId)), 'PractitionerRole');
}, FAULT_TEST_TIMEOUT);

afterAll(async () => {
  // Whatever happened, leave the stack as it was found.
  await startSynapse();
  if (!(await redisIsUp())) await restartRedisLosingEverything();
  await hub?.stop();
  gp?.stop();
  await db?.end();
  await database?.drop();
}, FAULT_TEST_TIMEOUT);

async function openOutboxRows(): Promise<number> {
  return Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM outbox WHERE completed_at IS NULL')).rows[0]!.n);
}

async function postBurst(label: string): Promise<string[]> {
  const responses: Bundle[] = await Promise.all(
    Array.from({ length: BURST }, (_, i) => fhir.transaction(referralBundle(`PractitionerRole/${roleId}`, `${label} ${i}`))),
  );
  return responses.map((r) => idOf(r, 'Task'));
}

async function expectEachDeliveredOnce(taskIds: string[]): Promise<void> {
  await Promise.all(taskIds.map((id) => gp.waitForReferral(id, 150_000)));
  await waitFor(async () => ((await openOutboxRows()) === 0 ? true : undefined), 'every outbox row to complete', 150_000);
  for (const taskId of taskIds) {
    const received = gp.referralsFor(taskId);
    expect(received).toHaveLength(1);
    // The GP's client may still be decrypting the last events; every event must open in the end.
    const counts = await waitFor(async () => {
      const now = await gp.eventsPerReferral(received[0]!.getRoomId()!, setup.bot.userId);
      return now.has('undecrypted') ? undefined : now;
    }, 'the GP to decrypt every event the bot stored');
    expect(counts.get(`Task/${taskId}`)).toBe(EVENTS_PER_REFERRAL);
  }
}

test('Synapse is stopped for 30 s during a burst of referrals; after it returns every referral is delivered exactly once', async () => {
  const taskIds = await postBurst('Homeserver outage');
  await stopSynapse();
  const openDuringOutage = await openOutboxRows();
  await new Promise((r) => setTimeout(r, 30_000));
  await startSynapse();
  await expectEachDeliveredOnce(taskIds);
  expect(openDuringOutage).toBeGreaterThan(0);
}, FAULT_TEST_TIMEOUT);

test('Redis restarts with nothing in it in the middle of a burst; every referral is delivered exactly once', async () => {
  const taskIds = await postBurst('Queue lost');
  // Wait until the burst is queued (and some of it in flight), then lose the queue.
  await waitFor(async () => {
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM outbox WHERE published_at IS NOT NULL');
    return Number(rows[0]!.n) > 0 ? true : undefined;
  }, 'the relay to publish');
  const openAtRestart = await openOutboxRows();
  await restartRedisLosingEverything();
  await expectEachDeliveredOnce(taskIds);
  expect(openAtRestart).toBeGreaterThan(0);
}, FAULT_TEST_TIMEOUT);
