import type { Bundle, Communication, PractitionerRole, Subscription, Task } from 'fhir/r4.js';
import type { MatrixEvent } from 'matrix-js-sdk';
import { createLogger, type RunningHub, startHub } from '@carehub/hub';
import { TypedFhirClient } from '../ops/lib/typed-fhir-client.js';
import { fhirBundleOf, GpMatrixClient } from '../ops/lib/gp-matrix-client.js';
import { gpPracticeBundle, idOf, referralBundle } from './support/fhir-fixtures.js';
import { SubscriberEndpoint } from './support/subscriber-endpoint.js';
import { createTestDatabase, createTestHubConfig, registerTestUser, stack } from './support/test-stack.js';
import { waitFor } from './support/wait-for.js';

// The GP's side of a referral, end to end on the real stack: the referral arrives in the GP's
// own Matrix client, the GP answers the way Element lets them (reading, a reaction, a reply, a
// command), the Task moves, the bot confirms in the room, and the integrator's subscription
// endpoint hears of every change.
let hub: RunningHub;
let gp: GpMatrixClient;
let fhir: TypedFhirClient;
let subscriber: SubscriberEndpoint;
let roleId: string;
let dropDatabase: () => Promise<void>;
const TIMEOUT = 120_000;

beforeAll(async () => {
  const database = await createTestDatabase();
  dropDatabase = database.drop;
  const setup = await createTestHubConfig(database.url);
  hub = await startHub(setup.config, createLogger(setup.config.log.level));
  fhir = new TypedFhirClient(`${hub.baseUrl}/fhir`);
  gp = await GpMatrixClient.start(stack.homeserverUrl, await registerTestUser('gp-workflow'));
  roleId = idOf(await fhir.transaction(gpPracticeBundle(gp.userId)), 'PractitionerRole');
  subscriber = await SubscriberEndpoint.start();
  await fhir.create<Subscription>({
    resourceType: 'Subscription',
    status: 'requested',
    reason: "The clinic's referral system follows its referrals",
    criteria: `Task?owner=PractitionerRole/${roleId}`,
    channel: { type: 'rest-hook', endpoint: subscriber.url, payload: 'application/fhir+json', header: ['Authorization: Bearer clinic-secret'] },
  });
}, TIMEOUT);

afterAll(async () => {
  gp?.stop();
  await hub?.stop();
  await subscriber?.stop();
  await dropDatabase?.();
});

async function postReferral(reason: string): Promise<{ taskId: string; message: MatrixEvent }> {
  const taskId = idOf(await fhir.transaction(referralBundle(`PractitionerRole/${roleId}`, reason)), 'Task');
  return { taskId, message: await gp.waitForReferral(taskId) };
}

function taskReaches(taskId: string, status: Task['status']): Promise<Task> {
  return waitFor(async () => {
    const task = await fhir.read<Task>('Task', taskId);
    return task.status === status ? task : undefined;
  }, `Task/${taskId} to become ${status}`);
}

/** The statuses the subscriber was told of, in order (a version that changed only details repeats its status once). */
function notifiedStatuses(taskId: string): Array<Task['status']> {
  return subscriber.resourcesFor<Task>('Task', taskId).map((t) => t.status).filter((s, i, all) => s !== all[i - 1]);
}

function taskDelivered(taskId: string): Promise<Task> {
  return waitFor(async () => {
    const task = await fhir.read<Task>('Task', taskId);
    return task.extension?.some((e) => e.url.endsWith('/matrix-delivery')) ? task : undefined;
  }, `Task/${taskId} to record its delivery`);
}

test('the GP reads the referral (Task received) and accepts it with ✅; the bot confirms; the subscriber hears each change', async () => {
  const { taskId, message } = await postReferral('Follow-up after hip replacement');

  // The referral is one text event whose body alone names patient and request, carrying its
  // structured FHIR inline (MSC4302).
  expect(message.getContent()).toMatchObject({ msgtype: 'm.text', 'de.gematik.fhir.structure_definition': { type: 'Bundle' } });
  expect(message.getContent()['body']).toMatch(/^Referral: Ole Nielsen – Home-care assessment\n/);
  expect(message.getContent()['formatted_body']).toContain('<h4>Referral: Ole Nielsen – ');
  expect(message.isEncrypted()).toBe(true);
  const payload = fhirBundleOf(message.getContent()) as Bundle;
  expect(payload.entry!.map((e) => e.resource!.resourceType)).toEqual(['Task', 'ServiceRequest', 'Patient']);
  expect(payload.entry![0]!.resource!.id).toBe(taskId);
  // The referral asks for a processing status (MSC4300), naming the bot's device.
  expect(message.getContent()['de.gematik.request.status']).toMatchObject({ from_device: hub.bot!.deviceId });

  expect((await taskDelivered(taskId)).businessStatus?.coding?.[0]?.code).toBe('delivered');
  await gp.markRead(message);
  const received = await taskReaches(taskId, 'received');
  expect(received.businessStatus?.coding?.[0]?.code).toBe('read');

  const reaction = await gp.react(message, '✅');
  const accepted = await taskReaches(taskId, 'accepted');
  // R4's Annotation.author names a Practitioner, not a PractitionerRole: the GP's role's Practitioner.
  expect(accepted.note?.at(-1)?.authorReference?.reference).toBe((await fhir.read<PractitionerRole>('PractitionerRole', roleId)).practitioner!.reference);
  const confirmation = await gp.waitForNoticeInThread(message, '✅');
  expect(confirmation.getContent()['m.relates_to']?.['m.in_reply_to']?.event_id).not.toBe(reaction);
  expect(confirmation.getContent()['body']).toBe('✅ Accepted by Dr. Karen Jensen. The requester has been told.\nReferral: Ole Nielsen – Home-care assessment');
  // A reaction is no message to quote: the confirmation replies to the referral, in its thread.
  expect(confirmation.getContent()['m.relates_to']).toMatchObject({ rel_type: 'm.thread', event_id: message.getId(), 'm.in_reply_to': { event_id: message.getId() } });

  await waitFor(async () => (notifiedStatuses(taskId).includes('accepted') ? true : undefined), 'the accepted Task at the subscriber');
  expect(notifiedStatuses(taskId)).toEqual(['requested', 'received', 'accepted']);
  // Everything in the room that carries content, the bot's and the GP's, is stored encrypted.
  const raw = await gp.rawRoomEvents(message.getRoomId()!);
  expect(raw.filter((e) => e.type === 'm.room.encrypted').length).toBeGreaterThanOrEqual(2); // referral (with its FHIR file), notice
  expect(raw.some((e) => e.type === 'm.room.message')).toBe(false);
  expect(JSON.stringify(raw)).not.toContain('Nielsen');
  const notification = subscriber.received.find((r) => r.path.endsWith(`/Task/${taskId}`))!;
  expect(notification.headers['authorization']).toBe('Bearer clinic-secret');
  expect(notification.headers['content-type']).toBe('application/fhir+json');
}, TIMEOUT);

test('the GP declines with ❌ and a reason; the Task is rejected with that reason, and the hub answers with a processing status', async () => {
  const { taskId, message } = await postReferral('Wound care at home');
  const reply = await gp.say(message, '❌ no capacity until March', message.getId());

  const rejected = await taskReaches(taskId, 'rejected');
  expect(rejected.statusReason?.text).toBe('no capacity until March');
  const notice = await gp.waitForNoticeAbout(reply);
  expect(notice.getContent()['body']).toMatch(/^❌ Declined by Dr\. Karen Jensen: no capacity until March\. The requester has been told\.\nReferral: Ole Nielsen – /);
  const status = await gp.waitForEvent('the processing status of the reply', (e) => e.getType() === 'de.gematik.response.status' && e.getContent()['m.relates_to']?.event_id === reply);
  expect(status.getContent()).toMatchObject({ status: 'success', from_device: hub.bot!.deviceId });
  await waitFor(async () => (notifiedStatuses(taskId).includes('rejected') ? true : undefined), 'the rejected Task at the subscriber');
  expect(notifiedStatuses(taskId)).toEqual(['requested', 'received', 'rejected']);
}, TIMEOUT);

test('a GP cannot complete what they have not accepted; after accepting, "done" with a note completes the Task; the API refuses to reopen it (409)', async () => {
  const { taskId, message } = await postReferral('Medication review');
  const early = await gp.say(message, 'done');
  const refusal = await gp.waitForNoticeAbout(early);
  expect(refusal.getContent()['body']).toMatch(/^⚠️ Accept the referral before marking it completed\.\nReferral: Ole Nielsen – /);
  const errorStatus = await gp.waitForEvent('an error status', (e) => e.getType() === 'de.gematik.response.status' && e.getContent()['m.relates_to']?.event_id === early);
  expect(errorStatus.getContent()['status']).toBe('error');
  expect((await fhir.read<Task>('Task', taskId)).status).toBe('received'); // the message showed the GP read it

  await gp.waitForNoticeAbout(await gp.say(message, '/accept'));
  await gp.say(message, 'done: visit booked for Monday 10:00');
  const completed = await taskReaches(taskId, 'completed');
  expect(completed.output?.[0]?.valueString).toBe('visit booked for Monday 10:00');
  expect(completed.executionPeriod?.end).toBeDefined();
  const history = await fhir.history('Task', taskId);
  const statuses = history.entry!.map((e) => (e.resource as Task).status).reverse();
  expect(statuses.filter((s, i) => s !== statuses[i - 1])).toEqual(['requested', 'received', 'accepted', 'in-progress', 'completed']);

  const reopen = await fetch(`${hub.baseUrl}/fhir/Task/${taskId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ ...completed, status: 'in-progress' }),
  });
  expect(reopen.status).toBe(409);
  expect(((await reopen.json()) as { issue: Array<{ diagnostics: string }> }).issue[0]!.diagnostics).toContain('is completed; it cannot become in-progress');
}, TIMEOUT);

test("the GP's other words reach the requester as a Communication about the Task", async () => {
  const { taskId, message } = await postReferral('Diabetes follow-up');
  await gp.say(message, 'Could you send the latest HbA1c results?');
  const found = await waitFor(async () => {
    const bundle = await fhir.search('Communication', { 'part-of': `Task/${taskId}` });
    return bundle.entry?.length ? (bundle.entry[0]!.resource as Communication) : undefined;
  }, 'the Communication');
  expect(found.payload?.[0]?.contentString).toBe('Could you send the latest HbA1c results?');
  expect(found.sender?.reference).toBe(`PractitionerRole/${roleId}`);
}, TIMEOUT);

test('the integrator edits the ServiceRequest (an m.replace edit in the room) and then cancels the referral (a notice; answers refused)', async () => {
  const response = await fhir.transaction(referralBundle(`PractitionerRole/${roleId}`, 'Falls assessment'));
  const taskId = idOf(response, 'Task');
  const message = await gp.waitForReferral(taskId);
  await taskDelivered(taskId);

  const requestId = idOf(response, 'ServiceRequest');
  const request = await fhir.read<import('fhir/r4.js').ServiceRequest>('ServiceRequest', requestId);
  await fhir.update({ ...request, id: requestId, reasonCode: [{ text: 'Falls assessment and home safety check' }] });
  const edit = await gp.waitForEvent('the edit', (e) => e.getContent()['m.relates_to']?.rel_type === 'm.replace' && e.getContent()['m.relates_to']?.event_id === message.getId());
  expect(edit.getContent()['m.new_content']['body']).toContain('Reason: Falls assessment and home safety check');

  const task = await fhir.read<Task>('Task', taskId);
  await fhir.update({ ...task, id: taskId, status: 'cancelled', statusReason: { text: 'patient admitted to hospital' } });
  await gp.waitForEvent('the cancellation notice', (e) => e.getRoomId() === message.getRoomId() && String(e.getContent()['body']).startsWith('🚫 This referral was cancelled by the requester: patient admitted to hospital'));

  await gp.react(message, '✅');
  expect((await gp.waitForNoticeInThread(message, '⚠️')).getContent()['body']).toMatch(/^⚠️ This referral is already cancelled; it cannot be accepted now\.\nReferral: Ole Nielsen – /);
  expect((await fhir.read<Task>('Task', taskId)).status).toBe('cancelled');
}, TIMEOUT);

test("integrators find referrals by status and owner; a subscriber endpoint that fails is retried and still hears every change in order", async () => {
  subscriber.failNext = 3;
  const { taskId, message } = await postReferral('Physiotherapy at home');
  await gp.react(message, '✅');
  await gp.waitForNoticeInThread(message, '✅');
  await taskReaches(taskId, 'accepted');

  const found = await fhir.search('Task', { status: 'accepted', owner: `PractitionerRole/${roleId}` });
  expect(found.entry!.map((e) => e.resource!.id)).toContain(taskId);
  const stillRequested = await fhir.search('Task', { status: 'requested', owner: `PractitionerRole/${roleId}` });
  expect(stillRequested.entry?.map((e) => e.resource!.id) ?? []).not.toContain(taskId);

  await waitFor(async () => (notifiedStatuses(taskId).includes('accepted') ? true : undefined), 'the accepted Task at the subscriber after retries');
  expect(subscriber.failNext).toBe(0);
  expect(notifiedStatuses(taskId)).toEqual(['requested', 'received', 'accepted']);
}, TIMEOUT);

test('several referrals share the room: an answer in one thread moves only that Task, a message at the top of the room gets a "which referral?" question, and reading the room marks every referral up to the one read', async () => {
  const knee = await postReferral('Knee: physiotherapy plan');
  const hip = await postReferral('Hip: wound check');
  expect(hip.message.getRoomId()).toBe(knee.message.getRoomId());
  await Promise.all([taskDelivered(knee.taskId), taskDelivered(hip.taskId)]);

  // The client shows the room; the GP has scrolled to the newer referral: both were in view.
  await gp.markRead(hip.message);
  await Promise.all([taskReaches(knee.taskId, 'received'), taskReaches(hip.taskId, 'received')]);

  // "accept" in the hip referral's thread is about the hip referral alone.
  await gp.waitForNoticeAbout(await gp.say(hip.message, 'accept'));
  await taskReaches(hip.taskId, 'accepted');
  expect((await fhir.read<Task>('Task', knee.taskId)).status).toBe('received');

  // Typed at the top of a room holding several open referrals, "done" could mean any of them.
  const unclear = await gp.say(knee.message.getRoomId()!, 'done');
  const question = await gp.waitForNoticeAbout(unclear);
  expect(question.getContent()['body']).toMatch(/^❓ Which referral is this about\?/);
  expect(question.getContent()['m.relates_to']?.rel_type).toBeUndefined(); // at the top, not in a thread
  expect((await fhir.read<Task>('Task', hip.taskId)).status).toBe('accepted');
  expect((await fhir.read<Task>('Task', knee.taskId)).status).toBe('received');

  // A reply to the knee referral (in its thread) is about the knee referral.
  await gp.say(knee.message, '❌ we do not offer physiotherapy', knee.message.getId());
  const rejected = await taskReaches(knee.taskId, 'rejected');
  expect(rejected.statusReason?.text).toBe('we do not offer physiotherapy');
  expect((await fhir.read<Task>('Task', hip.taskId)).status).toBe('accepted');
}, TIMEOUT);
