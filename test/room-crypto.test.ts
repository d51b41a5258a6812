import type { PractitionerRole, Task } from 'fhir/r4.js';
import { CAREHUB_ENDPOINT_CONNECTION_SYSTEM, createLogger, MATRIX_CONNECTION_CODE, type RunningHub, startHub } from '@carehub/hub';
import { GpMatrixClient } from '../ops/lib/gp-matrix-client.js';
import { TypedFhirClient } from '../ops/lib/typed-fhir-client.js';
import { gpPracticeBundle, idOf, referralBundle } from './support/fhir-fixtures.js';
import { createTestDatabase, createTestHubConfig, registerTestUser, stack } from './support/test-stack.js';
import { waitFor } from './support/wait-for.js';

// Crypto hygiene of the referral rooms: the bot's device is cross-signed, room keys go only to
// devices their owners verified (the default for health data), and a member who is removed
// cannot read what is said after they left.
let hub: RunningHub;
let fhir: TypedFhirClient;
let dropDatabase: () => Promise<void>;
const clients: GpMatrixClient[] = [];
const TIMEOUT = 120_000;

beforeAll(async () => {
  const database = await createTestDatabase();
  dropDatabase = database.drop;
  const setup = await createTestHubConfig(database.url);
  hub = await startHub(setup.config, createLogger(setup.config.log.level));
  fhir = new TypedFhirClient(`${hub.baseUrl}/fhir`);
}, TIMEOUT);

afterAll(async () => {
  clients.forEach((c) => c.stop());
  await hub?.stop();
  await dropDatabase?.();
});

async function gpClient(user: Parameters<typeof GpMatrixClient.start>[1], options: { crossSign?: boolean } = {}): Promise<GpMatrixClient> {
  const client = await GpMatrixClient.start(stack.homeserverUrl, user, options);
  clients.push(client);
  return client;
}

/** A second login (a new device) of an existing account, as a GP signing in on a new laptop. */
async function secondDevice(userId: string, password: string) {
  const response = await fetch(new URL('/_matrix/client/v3/login', stack.homeserverUrl), {
    method: 'POST',
    body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user: userId }, password }),
  });
  const body = (await response.json()) as { user_id: string; access_token: string; device_id: string };
  return { userId: body.user_id, accessToken: body.access_token, deviceId: body.device_id };
}

test("the bot's device is cross-signed by the bot, so GPs' clients can tell it is the hub's own", async () => {
  // What any client sees: the keys the homeserver publishes for the bot (POST /keys/query).
  const gp = await registerTestUser('gp-trust');
  const botId = hub.bot!.client.getUserId()!;
  const response = await fetch(new URL('/_matrix/client/v3/keys/query', stack.homeserverUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${gp.accessToken}` },
    body: JSON.stringify({ device_keys: { [botId]: [] } }),
  });
  const keys = (await response.json()) as {
    device_keys: Record<string, Record<string, { signatures: Record<string, Record<string, string>> }>>;
    self_signing_keys: Record<string, { keys: Record<string, string> }>;
    master_keys: Record<string, unknown>;
  };
  expect(keys.master_keys[botId]).toBeDefined();
  const selfSigningKeyId = Object.keys(keys.self_signing_keys[botId]!.keys)[0]!;
  const device = keys.device_keys[botId]![hub.bot!.deviceId]!;
  expect(Object.keys(device.signatures[botId]!)).toContain(selfSigningKeyId);
  expect(await hub.bot!.client.getCrypto()!.isCrossSigningReady()).toBe(true);
}, TIMEOUT);

test('by default a GP device that its owner never verified gets no room key: it cannot read the referral, the verified device can', async () => {
  const account = await registerTestUser('gp-two-devices');
  const verified = await gpClient(account);
  const unverified = await gpClient({ ...(await secondDevice(account.userId, account.password)), password: account.password }, { crossSign: false });
  const roleId = idOf(await fhir.transaction(gpPracticeBundle(account.userId)), 'PractitionerRole');

  const taskId = idOf(await fhir.transaction(referralBundle(`PractitionerRole/${roleId}`, 'Only for verified devices')), 'Task');
  const message = await verified.waitForReferral(taskId);
  expect(message.getContent()['body']).toContain('Only for verified devices');

  // The unverified device has the event, but only as ciphertext it cannot open.
  const seen = await waitFor(async () => unverified.client.getRoom(message.getRoomId()!)?.findEventById(message.getId()!), 'the event on the unverified device');
  await unverified.client.decryptEventIfNeeded(seen);
  expect(seen.isDecryptionFailure()).toBe(true);
  expect(unverified.referralsFor(taskId)).toHaveLength(0);
}, TIMEOUT);

test('a GP who leaves the practice is removed from its room at the next referral, which goes out under a new room key they never get', async () => {
  const first = await gpClient(await registerTestUser('gp-stays'));
  const second = await gpClient(await registerTestUser('gp-leaves'));
  const practice = await fhir.transaction(gpPracticeBundle(first.userId));
  const organizationId = idOf(practice, 'Organization');
  const endpoint = await fhir.create({
    resourceType: 'Endpoint',
    status: 'active',
    connectionType: { system: CAREHUB_ENDPOINT_CONNECTION_SYSTEM, code: MATRIX_CONNECTION_CODE },
    payloadType: [{ text: 'CareHub referral messages' }],
    address: `matrix:u/${second.userId}`,
  });
  const leavingRole = await fhir.create<PractitionerRole>({
    resourceType: 'PractitionerRole',
    active: true,
    organization: { reference: `Organization/${organizationId}` },
    endpoint: [{ reference: `Endpoint/${endpoint.id}` }],
  });

  // A referral to the practice reaches both of its GPs.
  const taskId = idOf(await fhir.transaction(referralBundle(`Organization/${organizationId}`, 'For the whole practice')), 'Task');
  const [message] = await Promise.all([first.waitForReferral(taskId), second.waitForReferral(taskId)]);
  const roomId = message.getRoomId()!;
  await waitFor(async () => ((await fhir.read<Task>('Task', taskId)).extension ? true : undefined), 'the delivery record');

  // The second GP leaves the practice: the directory no longer lists their role.
  await fhir.update<PractitionerRole>({ ...leavingRole, id: leavingRole.id!, active: false });
  const nextTaskId = idOf(await fhir.transaction(referralBundle(`Organization/${organizationId}`, 'After the change')), 'Task');
  const next = await first.waitForReferral(nextTaskId);
  expect(next.getRoomId()).toBe(roomId);
  await waitFor(async () => (first.client.getRoom(roomId)?.getMember(second.userId)?.membership === 'leave' ? true : undefined), 'the leaver removed from the room');

  const raw = await first.rawRoomEvents(roomId);
  const sessionOf = (eventId: string) => raw.find((e) => e.event_id === eventId)?.content['session_id'];
  expect(sessionOf(message.getId()!)).toBeDefined();
  expect(sessionOf(next.getId()!)).toBeDefined();
  expect(sessionOf(next.getId()!)).not.toBe(sessionOf(message.getId()!));
  expect(second.referralsFor(nextTaskId)).toHaveLength(0);
  expect(second.eventsIn(roomId).some((e) => e.getId() === next.getId())).toBe(false);
}, TIMEOUT);
