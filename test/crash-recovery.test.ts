import type { Bundle } from 'fhir/r4.js';
import pg from 'pg';
import { TypedFhirClient } from '../ops/lib/typed-fhir-client.js';
import { gpPracticeBundle, idOf, referralBundle } from './support/fhir-fixtures.js';
import { GpMatrixClient } from '../ops/lib/gp-matrix-client.js';
import { HubProcess } from '../ops/lib/hub-process.js';
import { createTestDatabase, createTestHubConfig, registerTestUser, stack } from './support/test-stack.js';
import { waitFor } from './support/wait-for.js';

// A crash between the POST's commit and delivery, or in the middle of delivering, delays
// referrals; it never loses or duplicates one.
const CRASH_TEST_TIMEOUT = 180_000;

let gp: GpMatrixClient;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let setup: Awaited<ReturnType<typeof createTestHubConfig>>;
let db: pg.Pool;
const running: HubProcess[] = [];

async function startHub(name: string, roles: string[]): Promise<HubProcess> {
  const hub = await HubProcess.startWithConfig(setup.dir, name, { ...setup.raw, roles }, { waitForApi: roles.includes('api') });
  running.push(hub);
  return hub;
}

async function openOutboxRows(): Promise<number> {
  const { rows } = await db.query<{ open: string }>('SELECT count(*) AS open FROM outbox WHERE completed_at IS NULL');
  return Number(rows[0]!.open);
}

/**
 * Every event the bot put into the room, as the homeserver stores them (ciphertext). A referral
 * is one: a text message carrying its FHIR.
 */
const EVENTS_PER_REFERRAL = 1;

/** The bot's events in a room (the homeserver's copy) for one referral; every one must be decryptable. */
async function botEventsFor(roomId: string, taskId: string): Promise<number> {
  // The GP's client may still be decrypting the last events; every event must open in the end.
  const counts = await waitFor(async () => {
    const now = await gp.eventsPerReferral(roomId, setup.bot.userId);
    return now.has('undecrypted') ? undefined : now;
  }, 'the GP to decrypt every event the bot stored');
  return counts.get(`Task/${taskId}`) ?? 0;
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = new pg.Pool({ connectionString: database.url, max: 2 });
  setup = await createTestHubConfig(database.url, {
    outbox: { pollIntervalMs: 200, republishAfterMs: 3000 },
    delivery: { attempts: 50, backoffMs: 200, lockDurationMs: 3000 },
  });
  gp = await GpMatrixClient.start(stack.homeserverUrl, await registerTestUser('gp-crash'));
});

afterAll(async () => {
  for (const hub of running) await hub.kill();
  gp?.stop();
  await db?.end();
  await database?.drop();
});

test('the hub is killed after the referral is committed and before it is delivered; after a restart it is delivered exactly once', async () => {
  // An API-only process commits the referral (and its outbox row) and dies before any worker runs.
  const api = await startHub('api-only', ['api']);
  const fhir = new TypedFhirClient(`${api.baseUrl}/fhir`);
  const roleId = idOf(await fhir.transaction(gpPracticeBundle(gp.userId)), 'PractitionerRole');
  const taskId = idOf(await fhir.transaction(referralBundle(`PractitionerRole/${roleId}`, 'Kill between commit and delivery')), 'Task');
  expect(await openOutboxRows()).toBe(1);
  await api.kill();

  const hub = await startHub('full-after-kill', ['api', 'outbox-relay', 'delivery']);
  const message = await gp.waitForReferral(taskId);
  expect(message.getContent()['body']).toContain('Kill between commit and delivery');
  await waitFor(async () => ((await openOutboxRows()) === 0 ? true : undefined), 'the outbox row to complete');

  expect(gp.referralsFor(taskId)).toHaveLength(1);
  expect(await botEventsFor(message.getRoomId()!, taskId)).toBe(EVENTS_PER_REFERRAL);
  await hub.stop();
}, CRASH_TEST_TIMEOUT);

test('the hub is killed in the middle of a burst of deliveries; after a restart every referral is delivered exactly once', async () => {
  const hub = await startHub('full-burst', ['api', 'outbox-relay', 'delivery']);
  const fhir = new TypedFhirClient(`${hub.baseUrl}/fhir`);
  const roleId = idOf(await fhir.transaction(gpPracticeBundle(gp.userId)), 'PractitionerRole');
  const responses: Bundle[] = await Promise.all(
    Array.from({ length: 6 }, (_, i) => fhir.transaction(referralBundle(`PractitionerRole/${roleId}`, `Burst referral ${i}`))),
  );
  const taskIds = responses.map((r) => idOf(r, 'Task'));

  // Kill the moment the first referral reaches the GP: others are queued, in flight, or sent
  // but not yet recorded as delivered.
  await Promise.race(taskIds.map((id) => gp.waitForReferral(id)));
  await hub.kill();
  const openAtKill = await openOutboxRows();

  await startHub('full-restarted', ['api', 'outbox-relay', 'delivery']);
  await Promise.all(taskIds.map((id) => gp.waitForReferral(id, 120_000)));
  await waitFor(async () => ((await openOutboxRows()) === 0 ? true : undefined), 'every outbox row to complete', 120_000);

  expect(openAtKill).toBeGreaterThan(0);
  for (const taskId of taskIds) {
    const received = gp.referralsFor(taskId);
    expect(received).toHaveLength(1);
    expect(await botEventsFor(received[0]!.getRoomId()!, taskId)).toBe(EVENTS_PER_REFERRAL);
  }
  const { rows } = await db.query<{ deliveries: string }>("SELECT count(*) AS deliveries FROM matrix_deliveries WHERE part = 'message'");
  expect(Number(rows[0]!.deliveries)).toBe(taskIds.length + 1);
}, CRASH_TEST_TIMEOUT);
