import type { Bundle, ServiceRequest, Task } from 'fhir/r4.js';
import { createLogger, type RunningHub, startHub } from '@carehub/hub';
import { MATRIX_DELIVERY_EXTENSION } from '../hub/src/delivery/task-delivery-status.js';
import { TypedFhirClient } from '../ops/lib/typed-fhir-client.js';
import { gpPracticeBundle, idOf, referralBundle } from './support/fhir-fixtures.js';
import { GpMatrixClient } from '../ops/lib/gp-matrix-client.js';
import { createTestDatabase, createTestHubConfig, registerTestUser, stack } from './support/test-stack.js';
import { waitFor } from './support/wait-for.js';

// The walking skeleton on the real stack: FHIR POST → Postgres + outbox → BullMQ → the hub's
// bot → Synapse → the GP's own Matrix client, and the Task's status back in FHIR.
let hub: RunningHub;
let gp: GpMatrixClient;
let dropDatabase: () => Promise<void>;
let setup: Awaited<ReturnType<typeof createTestHubConfig>>;
let fhir: TypedFhirClient;
let roleId: string;

beforeAll(async () => {
  const database = await createTestDatabase();
  dropDatabase = database.drop;
  setup = await createTestHubConfig(database.url);
  hub = await startHub(setup.config, createLogger(setup.config.log.level));
  fhir = new TypedFhirClient(`${hub.baseUrl}/fhir`);
  gp = await GpMatrixClient.start(stack.homeserverUrl, await registerTestUser('gp-jensen'));
  roleId = idOf(await fhir.transaction(gpPracticeBundle(gp.userId)), 'PractitionerRole');
});

afterAll(async () => {
  gp?.stop();
  await hub?.stop();
  await dropDatabase?.();
});

async function deliveredTask(taskId: string): Promise<Task> {
  return waitFor(async () => {
    const task = await fhir.read<Task>('Task', taskId);
    return task.businessStatus?.coding?.[0]?.code === 'delivered' ? task : undefined;
  }, 'the Task to record its delivery');
}

test("an integrator posts a referral; the GP's own client decrypts it; the homeserver only ever held ciphertext; the Task records the delivery", async () => {
  const response = await fhir.transaction(referralBundle(`PractitionerRole/${roleId}`, 'Follow-up after hip replacement'));
  const taskId = idOf(response, 'Task');

  const message = await gp.waitForReferral(taskId);
  expect(message.getSender()).toBe(setup.bot.userId);
  expect(message.isEncrypted()).toBe(true);
  const content = message.getContent();
  expect(content['body']).toContain('Ole Nielsen');
  expect(content['body']).toContain('Follow-up after hip replacement');
  expect(content['body']).toContain('Priority: urgent');
  expect(content['formatted_body']).toContain('<b>Patient:</b> Ole Nielsen, born 1948-03-14');

  // What the homeserver stores and hands any device: the referral only as m.room.encrypted.
  const raw = await gp.rawRoomEvents(message.getRoomId()!);
  const stored = raw.find((e) => e.event_id === message.getId());
  expect(stored?.type).toBe('m.room.encrypted');
  expect(stored?.content['algorithm']).toBe('m.megolm.v1.aes-sha2');
  expect(JSON.stringify(raw)).not.toContain('Nielsen');
  expect(raw.some((e) => e.type === 'm.room.message')).toBe(false);

  const task = await deliveredTask(taskId);
  expect(task.status).toBe('requested');
  const delivery = task.extension!.find((e) => e.url === MATRIX_DELIVERY_EXTENSION)!;
  expect(delivery.extension!.find((e) => e.url === 'event')!.valueString).toBe(message.getId());
  expect(delivery.extension!.find((e) => e.url === 'room')!.valueString).toBe(message.getRoomId());
  expect(task.meta!.versionId).toBe('2');
});

test('referrals to one recipient share its room, invite-only, encrypted, saying what it is in its pinned first message; each referral is one event (text with its FHIR inline) that starts a thread', async () => {
  const first = idOf(await fhir.transaction(referralBundle(`PractitionerRole/${roleId}`, 'Knee pain')), 'Task');
  const second = idOf(await fhir.transaction(referralBundle(`PractitionerRole/${roleId}`, 'Hip pain')), 'Task');
  const [one, two] = [await gp.waitForReferral(first), await gp.waitForReferral(second)];
  expect(two.getRoomId()).toBe(one.getRoomId());
  const room = gp.client.getRoom(one.getRoomId()!)!;
  const state = room.currentState;
  expect(state.getStateEvents('m.room.join_rules', '')?.getContent()['join_rule']).toBe('invite');
  expect(state.getStateEvents('m.room.encryption', '')?.getContent()['algorithm']).toBe('m.megolm.v1.aes-sha2');
  expect(state.getStateEvents('m.room.history_visibility', '')?.getContent()['history_visibility']).toBe('invited');
  expect(state.getStateEvents('org.carehub.room', '')?.getContent()).toEqual({ kind: 'referrals', owner: `PractitionerRole/${roleId}` });
  // Room names are not encrypted: no patient data in them.
  expect(room.name).not.toContain('Nielsen');
  for (const message of [one, two]) {
    // At the top of the room (threads start from it), carrying the referral's FHIR inline.
    expect(message.getContent()['m.relates_to']).toBeUndefined();
    expect(message.getContent()).toMatchObject({ msgtype: 'm.text', 'de.gematik.fhir.resource': { resourceType: 'Bundle', type: 'collection' } });
  }
  // The room's first pinned message says what the room is and how to answer.
  const pinned = state.getStateEvents('m.room.pinned_events', '')?.getContent()['pinned'] as string[];
  expect(pinned).toHaveLength(1);
  const intro = await gp.waitForEvent('the pinned intro', (e) => e.getId() === pinned[0]);
  expect(intro.getContent()['body']).toMatch(/^This room carries referrals, sent through CareHub\.\nEach referral is a message with its own thread\. Answer in the thread: ✅/);
  // Every message the bot stored in the room is ciphertext and, but for the intro, a referral, one event each.
  const botId = hub.bot!.client.getUserId();
  const botMessages = (await gp.rawRoomEvents(one.getRoomId()!)).filter((e) => e.sender === botId && ['m.room.encrypted', 'm.room.message'].includes(e.type));
  expect(botMessages.every((e) => e.type === 'm.room.encrypted')).toBe(true);
  const referralEvents = gp.eventsIn(one.getRoomId()!).filter((e) => e.getSender() === botId && e.getContent()['org.carehub.referral']);
  expect(botMessages.map((e) => e.event_id).filter((id) => id !== intro.getId()).sort()).toEqual(referralEvents.map((e) => e.getId()).sort());
  expect(referralEvents.map((e) => e.getId())).toEqual(expect.arrayContaining([one.getId(), two.getId()]));
});

/** The Megolm session a stored (encrypted) event was sent with, as the homeserver holds it. */
async function megolmSessionOf(event: { getRoomId(): string | undefined; getId(): string | undefined }): Promise<unknown> {
  const raw = await gp.rawRoomEvents(event.getRoomId()!);
  return raw.find((e) => e.event_id === event.getId())?.content['session_id'];
}

test('the hub keeps its Matrix device across a restart and still delivers readable referrals, under a new Megolm session', async () => {
  const deviceBefore = hub.bot!.deviceId;
  const lastBefore = gp.decrypted.filter((e) => e.getSender() === hub.bot!.client.getUserId() && e.getContent()['org.carehub.referral']).at(-1)!;
  await hub.stop();
  hub = await startHub(setup.config, createLogger(setup.config.log.level));
  fhir = new TypedFhirClient(`${hub.baseUrl}/fhir`);
  expect(hub.bot!.deviceId).toBe(deviceBefore);

  const taskId = idOf(await fhir.transaction(referralBundle(`PractitionerRole/${roleId}`, 'Fall at home')), 'Task');
  const message = await gp.waitForReferral(taskId);
  expect(message.getContent()['body']).toContain('Fall at home');
  await deliveredTask(taskId);
  // Same room, new session: a restarted bot never continues an old Megolm session (its device
  // store may lag the last steps the homeserver saw, since room sends do not wait for it).
  expect(message.getRoomId()).toBe(lastBefore.getRoomId());
  expect(await megolmSessionOf(message)).toEqual(expect.any(String));
  expect(await megolmSessionOf(message)).not.toBe(await megolmSessionOf(lastBefore));

  const devices = await hub.bot!.client.getDevices();
  expect(devices.devices.map((d) => d.device_id)).toEqual([deviceBefore]);
});

test("the GP's client shows the bot by its configured display name, not its account name", async () => {
  const botId = hub.bot!.client.getUserId()!;
  expect((await gp.client.getProfileInfo(botId)).displayname).toBe(setup.config.matrix.bot.displayName);
  const referral = gp.decrypted.find((e) => e.getSender() === botId && e.getContent()['org.carehub.referral'])!;
  const member = await waitFor(async () => {
    const found = gp.client.getRoom(referral.getRoomId()!)?.getMember(botId);
    return found?.name === setup.config.matrix.bot.displayName ? found : undefined;
  }, "the bot's member name in the room");
  expect(member.rawDisplayName).toBe('CareHub');
});

test('a referral whose FHIR is too large to ride inline still arrives as one readable text, its FHIR following as an encrypted file in its thread', async () => {
  const bundle = referralBundle(`PractitionerRole/${roleId}`, 'Complex discharge');
  const note = `Medication history: ${'metformin 500 mg twice daily; '.repeat(1800)}`;
  const request = bundle.entry!.find((e) => e.resource?.resourceType === 'ServiceRequest')!.resource as ServiceRequest;
  request.note = [{ text: note }];
  const taskId = idOf(await fhir.transaction(bundle), 'Task');

  const message = await gp.waitForReferral(taskId);
  expect(message.getContent()).not.toHaveProperty('de.gematik.fhir.resource');
  expect(message.getContent()['org.carehub.referral']).toMatchObject({ fhir: 'thread' });
  expect(message.getContent()['body']).toMatch(/^Referral: Ole Nielsen – Home-care assessment\n/);
  expect(message.getContent()['body']).toContain("(shortened: the whole text is in the referral's FHIR)");
  expect(message.getContent()['body']).toContain('The referral as FHIR follows in this thread as a file.');

  const file = await gp.waitForEvent('the FHIR file in the thread', (e) => e.getContent()['msgtype'] === 'm.file' && e.getContent()['m.relates_to']?.event_id === message.getId());
  expect(file.getContent()).toMatchObject({ info: { mimetype: 'application/fhir+json' }, 'de.gematik.fhir.structure_definition': { type: 'Bundle' }, 'org.carehub.referral': { task: `Task/${taskId}` } });
  const payload = JSON.parse((await gp.downloadFile(file.getContent())).toString()) as Bundle;
  const sent = payload.entry!.find((e) => e.resource?.resourceType === 'ServiceRequest')!.resource as ServiceRequest;
  expect(sent.note?.[0]?.text).toBe(note);
  expect((await deliveredTask(taskId)).status).toBe('requested');
});
