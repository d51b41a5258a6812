import type { Bundle, Task } from 'fhir/r4.js';
import { createDatabase, createLogger, type Database, parseConfig, type RunningHub, startHub } from '@carehub/hub';
import { MATRIX_DELIVERY_EXTENSION } from '../hub/src/delivery/task-delivery-status.js';
import { fhirBundleOf, GpMatrixClient } from '../ops/lib/gp-matrix-client.js';
import { NioGpClient, type NioEvent } from '../ops/lib/nio-gp-client.js';
import { TypedFhirClient } from '../ops/lib/typed-fhir-client.js';
import { gpPracticeBundle, idOf, referralBundle } from './support/fhir-fixtures.js';
import { createTestDatabase, createTestHubConfig, registerTestUser, stack } from './support/test-stack.js';
import { waitFor } from './support/wait-for.js';

// "Delivered" means readable, tried with two GP clients the hub's own SDK did not write: matrix-nio
// with libolm (no cross-signing at all) and a matrix-js-sdk login that has not verified itself.
// The hub starts with the default `cross-signed` key sharing, then restarts with `all`.
let hub: RunningHub;
let fhir: TypedFhirClient;
let dropDatabase: () => Promise<void>;
let db: Database;
let setup: Awaited<ReturnType<typeof createTestHubConfig>>;
let nio: NioGpClient;
let js: GpMatrixClient;
let jsPassword: string;
let nioRole: string;
let jsRole: string;
const TIMEOUT = 180_000;
const AVATAR = 'mxc://carehub.test/carehub-bot-avatar';

beforeAll(async () => {
  const database = await createTestDatabase();
  dropDatabase = database.drop;
  db = createDatabase(database.url, 1);
  setup = await createTestHubConfig(database.url);
  const matrix = setup.raw.matrix as { bot: object };
  const raw = { ...setup.raw, matrix: { ...matrix, bot: { ...matrix.bot, avatarUrl: AVATAR }, readabilityCheckSeconds: 2 } };
  setup = { ...setup, raw, config: parseConfig(raw) };
  hub = await startHub(setup.config, createLogger(setup.config.log.level));
  fhir = new TypedFhirClient(`${hub.baseUrl}/fhir`);
  const [nioUser, jsUser] = await Promise.all([registerTestUser('nio-reader'), registerTestUser('js-reader')]);
  jsPassword = jsUser.password;
  nio = await NioGpClient.start(nioUser, stack);
  // A login that skipped "set up secure messaging": no cross-signing, so unverified.
  js = await GpMatrixClient.start(stack.homeserverUrl, jsUser, { crossSign: false });
  nioRole = idOf(await fhir.transaction(gpPracticeBundle(nio.userId)), 'PractitionerRole');
  jsRole = idOf(await fhir.transaction(gpPracticeBundle(js.userId)), 'PractitionerRole');
}, TIMEOUT);

afterAll(async () => {
  js?.stop();
  await nio?.stop();
  await hub?.stop();
  await db?.end();
  await dropDatabase?.();
});

async function restartHub(keySharing: 'cross-signed' | 'all'): Promise<void> {
  await hub.stop();
  const raw = { ...setup.raw, matrix: { ...(setup.raw.matrix as object), keySharing } };
  setup = { ...setup, raw, config: parseConfig(raw) };
  hub = await startHub(setup.config, createLogger(setup.config.log.level));
  fhir = new TypedFhirClient(`${hub.baseUrl}/fhir`);
}

async function postReferral(role: string, reason: string): Promise<string> {
  return idOf(await fhir.transaction(referralBundle(`PractitionerRole/${role}`, reason)), 'Task');
}

/** The Task once its delivery is recorded, with the room and event of its referral. */
async function delivered(taskId: string): Promise<{ task: Task; roomId: string; eventId: string }> {
  const task = await waitFor(async () => {
    const current = await fhir.read<Task>('Task', taskId);
    return current.extension?.some((e) => e.url === MATRIX_DELIVERY_EXTENSION) ? current : undefined;
  }, `Task/${taskId} to record its delivery`);
  const delivery = task.extension!.find((e) => e.url === MATRIX_DELIVERY_EXTENSION)!.extension!;
  return { task, roomId: delivery.find((e) => e.url === 'room')!.valueString!, eventId: delivery.find((e) => e.url === 'event')!.valueString! };
}

const businessStatusOf = (task: Task) => task.businessStatus?.coding?.[0]?.code;

async function businessStatusBecomes(taskId: string, code: string): Promise<Task> {
  return waitFor(async () => {
    const task = await fhir.read<Task>('Task', taskId);
    return businessStatusOf(task) === code ? task : undefined;
  }, `Task/${taskId} businessStatus ${code}`);
}

const isNioReferral = (taskId: string) => (e: NioEvent) => (e.content['org.carehub.referral'] as { task?: string } | undefined)?.task === `Task/${taskId}`;

/** What a referral's plain body must say by itself (what a client without HTML, captions or threads shows). */
function expectReadableBody(body: unknown, reason: string): void {
  expect(body).toEqual(expect.stringMatching(/^Referral.*: Ole Nielsen – Home-care assessment\n/));
  expect(body).toContain('Patient: Ole Nielsen, born 1948-03-14');
  expect(body).toContain(`Reason: ${reason}`);
  expect(body).toContain('Priority: urgent');
  expect(body).toContain('accept');
}

describe('with the default cross-signed key sharing', () => {
  test('a nio GP (no cross-signing) gets the key withheld, is told without patient data that a referral waits, the Task says "not readable yet", and its read receipt does not count', async () => {
    const taskId = await postReferral(nioRole, 'Leg ulcer dressing');
    const { task, roomId, eventId } = await delivered(taskId);
    expect(businessStatusOf(task)).toBe('delivered-not-readable');
    expect(task.businessStatus?.text).toBe('Delivered, not readable yet');

    const withheld = await nio.waitForWithheldKey('the withheld referral key', (w) => w.room_id === roomId);
    expect(withheld).toMatchObject({ sender: setup.bot.userId, code: 'm.unverified' });
    await nio.waitForUndecryptable('the referral it cannot read', (e) => e.event_id === eventId);

    // The notice every device reads: decrypted by nio (encrypted, shared with all devices), no patient data.
    const notice = await nio.waitForEvent('the "referral waiting" notice', (e) => e.room_id === roomId && String(e.content['body']).startsWith('🔒'));
    expect(notice.encrypted).toBe(true);
    expect(notice.content['body']).toContain(nio.userId);
    expect(notice.content['body']).toMatch(/verify this login/i);
    expect(JSON.stringify(notice.content)).not.toMatch(/Nielsen|1948|Leg ulcer|Home-care/);
    // So does the room's pinned intro.
    await nio.waitForEvent('the pinned intro', (e) => e.room_id === roomId && String(e.content['body']).startsWith('This room carries referrals'));

    // A read receipt for the event it could not decrypt is weighed and not counted as "received".
    await nio.markRead({ room_id: roomId, event_id: eventId });
    const outcome = await waitFor(async () => {
      const { rows } = await db.query<{ outcome: string }>('SELECT outcome FROM matrix_inbound_events WHERE event_id = $1', [`receipt:${roomId}:${nio.userId}:${eventId}`]);
      return rows[0]?.outcome;
    }, "the hub to act on nio's receipt");
    expect(outcome).toBe('read: nothing to do');
    const after = await fhir.read<Task>('Task', taskId);
    expect(after.status).toBe('requested');
    expect(businessStatusOf(after)).toBe('delivered-not-readable');
  }, TIMEOUT);

  test('a js-sdk GP on an unverified login cannot read the referral; once it sets up cross-signing the open referral is re-sent readable there, in its thread', async () => {
    const taskId = await postReferral(jsRole, 'Wound check');
    const { task, roomId, eventId } = await delivered(taskId);
    expect(businessStatusOf(task)).toBe('delivered-not-readable');
    await js.waitForEvent('the "referral waiting" notice', (e) => e.getRoomId() === roomId && String(e.getContent()['body']).startsWith('🔒'));
    expect(js.decrypted.some((e) => e.getId() === eventId)).toBe(false);

    await js.setUpCrossSigning(jsPassword);
    const resend = await js.waitForEvent('the re-sent referral', (e) => e.getContent()['org.carehub.referral']?.task === `Task/${taskId}` && e.getContent()['m.relates_to']?.event_id === eventId);
    expect(resend.getContent()['m.relates_to']).toMatchObject({ rel_type: 'm.thread', event_id: eventId });
    expectReadableBody(resend.getContent()['body'], 'Wound check');
    const bundle = fhirBundleOf(resend.getContent()) as Bundle;
    expect(bundle.entry!.map((e) => e.resource!.resourceType)).toEqual(['Task', 'ServiceRequest', 'Patient']);
    expect((await businessStatusBecomes(taskId, 'delivered')).status).toBe('requested');

    // Read on a device that can decrypt it, the receipt counts.
    await js.markRead(resend);
    await waitFor(async () => ((await fhir.read<Task>('Task', taskId)).status === 'received' ? true : undefined), 'the Task received');
  }, TIMEOUT);
});

describe('after the policy changes to all', () => {
  beforeAll(async () => {
    await restartHub('all');
  }, TIMEOUT);

  test("the nio GP's open referral is re-sent readable on its device, once", async () => {
    const waiting = (await fhir.search('Task', { owner: `PractitionerRole/${nioRole}` })).entry!.map((e) => e.resource as Task);
    const taskId = waiting[0]!.id!;
    const resend = await nio.waitForEvent('the re-sent referral', (e) => isNioReferral(taskId)(e) && (e.content['m.relates_to'] as { rel_type?: string } | undefined)?.rel_type === 'm.thread');
    expect(resend.encrypted).toBe(true);
    expectReadableBody(resend.content['body'], 'Leg ulcer dressing');
    expect((resend.content['de.gematik.fhir.resource'] as Bundle).entry![0]!.resource!.id).toBe(taskId);
    await businessStatusBecomes(taskId, 'delivered');
    const resends = nio.events.filter((e) => isNioReferral(taskId)(e) && (e.content['m.relates_to'] as { rel_type?: string } | undefined)?.rel_type === 'm.thread');
    expect(resends.map((e) => e.event_id)).toEqual([resend.event_id]);
  }, TIMEOUT);

  test('both GPs read a new referral from its body alone and take its FHIR Bundle from the event content; the nio GP accepts with ✅; both show the bot as CareHub (with its configured avatar)', async () => {
    const [nioTask, jsTask] = [await postReferral(nioRole, 'Insulin titration'), await postReferral(jsRole, 'Blood pressure review')];
    const fromNio = await nio.waitForEvent('the referral', (e) => isNioReferral(nioTask)(e) && !e.content['m.relates_to']);
    expect(fromNio).toMatchObject({ type: 'm.room.message', encrypted: true, nio_class: 'RoomMessageText', content: { msgtype: 'm.text' } });
    expectReadableBody(fromNio.content['body'], 'Insulin titration');
    const nioBundle = fromNio.content['de.gematik.fhir.resource'] as Bundle;
    expect(nioBundle.entry!.map((e) => e.resource!.resourceType)).toEqual(['Task', 'ServiceRequest', 'Patient']);
    expect(businessStatusOf((await delivered(nioTask)).task)).toBe('delivered');

    const fromJs = await js.waitForReferral(jsTask);
    expectReadableBody(fromJs.getContent()['body'], 'Blood pressure review');
    expect((fhirBundleOf(fromJs.getContent()) as Bundle).entry![0]!.resource!.id).toBe(jsTask);

    await nio.react(fromNio, '✅');
    await waitFor(async () => ((await fhir.read<Task>('Task', nioTask)).status === 'accepted' ? true : undefined), 'the nio GP accepting');
    const confirmation = await nio.waitForEvent('the confirmation', (e) => String(e.content['body']).startsWith('✅ Accepted by'));
    // In the referral's thread, replying to the referral (not to the reaction), naming it.
    expect(confirmation.content['m.relates_to']).toMatchObject({ rel_type: 'm.thread', event_id: fromNio.event_id, 'm.in_reply_to': { event_id: fromNio.event_id } });
    expect(confirmation.content['body']).toContain('Referral: Ole Nielsen – Home-care assessment');

    const name = setup.config.matrix.bot.displayName;
    expect(await nio.displayNameOf(setup.bot.userId, fromNio.room_id)).toEqual({ profile: name, inRoom: name });
    expect(await js.displayNameOf(setup.bot.userId)).toBe(name);
    expect((await js.client.getProfileInfo(setup.bot.userId)).avatar_url).toBe(AVATAR);
    expect(js.client.getRoom(fromJs.getRoomId()!)!.getMember(setup.bot.userId)!.name).toBe(name);
  }, TIMEOUT);
});
