import { randomBytes } from 'node:crypto';
import { GpMatrixClient } from '../ops/lib/gp-matrix-client.js';
import { NioGpClient } from '../ops/lib/nio-gp-client.js';
import { registerTestUser, stack } from './support/test-stack.js';
import { waitFor } from './support/wait-for.js';

// The stack tests' second GP client, matrix-nio with libolm (ops/lib/nio-gp/), against the real
// Synapse and without the hub: a matrix-js-sdk user (Rust crypto) and a nio user talk in an
// encrypted room, so each implementation reads what the other encrypted.
let sender: GpMatrixClient;
let nio: NioGpClient;
let roomId: string;
const stopped: Array<() => unknown> = [];
const TIMEOUT = 60_000;

/** An encrypted room made by `by`, with `invitee` invited; resolves once the invitee has joined, as `by` sees it. */
async function encryptedRoomWith(by: GpMatrixClient, invitee: NioGpClient): Promise<string> {
  const { room_id } = await by.client.createRoom({
    invite: [invitee.userId],
    initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
  });
  await invitee.waitForJoin(room_id);
  // The sender shares its room key with the members it knows of: wait until its sync shows the join.
  await waitFor(async () => (by.client.getRoom(room_id)?.getMember(invitee.userId)?.membership === 'join' ? true : undefined), `${invitee.userId} joined, seen by the sender`);
  return room_id;
}

beforeAll(async () => {
  const [gpA, gpB] = await Promise.all([registerTestUser('js-gp'), registerTestUser('nio-gp')]);
  sender = await GpMatrixClient.start(stack.homeserverUrl, gpA);
  stopped.push(() => sender.stop());
  nio = await NioGpClient.start(gpB, stack);
  stopped.push(() => nio.stop());
  roomId = await encryptedRoomWith(sender, nio);
}, TIMEOUT);

afterAll(async () => {
  for (const stop of stopped.reverse()) await stop();
});

test('a message from a matrix-js-sdk client is decrypted by the nio client, and the nio reply by matrix-js-sdk', async () => {
  expect(nio.deviceId).toMatch(/^[A-Z]+$/);
  // The js-sdk default shares room keys with unverified devices too, so nio (no cross-signing) gets it.
  const sent = await sender.say(roomId, 'Good morning from the js-sdk GP');
  const received = await nio.waitForEvent('the js-sdk message', (e) => e.event_id === sent);
  expect(received).toMatchObject({ type: 'm.room.message', sender: sender.userId, room_id: roomId, encrypted: true });
  expect(received.content).toMatchObject({ msgtype: 'm.text', body: 'Good morning from the js-sdk GP' });

  const reply = await nio.say(roomId, 'Good morning from the nio GP', { inReplyTo: sent });
  const decrypted = await sender.waitForEvent('the nio reply', (e) => e.getId() === reply);
  expect(decrypted.getSender()).toBe(nio.userId);
  expect(decrypted.getContent()).toMatchObject({ body: 'Good morning from the nio GP', 'm.relates_to': { 'm.in_reply_to': { event_id: sent } } });
}, TIMEOUT);

test('the nio client downloads and decrypts an encrypted file from the authenticated media path', async () => {
  const bytes = randomBytes(3000);
  const sent = await sender.sendFile(roomId, bytes, 'referral.fhir.json', 'application/fhir+json');
  const file = await nio.waitForEvent('the encrypted m.file', (e) => e.event_id === sent);
  // nio files an encrypted m.file under RoomEncryptedFile (not RoomMessageFile).
  expect(file).toMatchObject({ nio_class: 'RoomEncryptedFile', encrypted: true, content: { msgtype: 'm.file', body: 'referral.fhir.json' } });
  expect((await nio.downloadFile(file.content)).equals(bytes)).toBe(true);
}, TIMEOUT);

test("the nio client's reaction (unencrypted, as nio sends it) and read receipt reach the other side", async () => {
  const sent = await sender.say(roomId, 'Please confirm');
  const message = await nio.waitForEvent('the message to react to', (e) => e.event_id === sent);
  const reaction = await nio.react(message, '✅');
  await nio.markRead(message);
  const raw = await waitFor(async () => (await sender.rawRoomEvents(roomId)).find((e) => e.event_id === reaction), 'the reaction on the homeserver', 30_000);
  expect(raw).toMatchObject({ type: 'm.reaction', sender: nio.userId, content: { 'm.relates_to': { rel_type: 'm.annotation', event_id: sent, key: '✅' } } });
  // Its own receipt, not the one js-sdk infers from the reaction nio sent afterwards.
  const receipt = () => sender.client.getRoom(roomId)?.getReadReceiptForUserId(nio.userId, true)?.eventId;
  await waitFor(async () => (receipt() === sent ? true : undefined), "the nio user's read receipt, seen by the sender", 30_000);
}, TIMEOUT);

test('a sender that shares keys only with verified devices withholds them from nio, which reports m.unverified', async () => {
  const strict = await GpMatrixClient.start(stack.homeserverUrl, await registerTestUser('strict-gp'));
  stopped.push(() => strict.stop());
  // What the hub's `cross-signed` key sharing amounts to for a device without cross-signing.
  strict.client.getCrypto()!.globalBlacklistUnverifiedDevices = true;
  const strictRoom = await encryptedRoomWith(strict, nio);
  const sent = await strict.say(strictRoom, 'Only for verified devices');
  const undecryptable = await nio.waitForUndecryptable('the withheld message', (e) => e.event_id === sent);
  const withheld = await nio.waitForWithheldKey('m.unverified for that session', (w) => w.session_id === undecryptable.session_id);
  expect(withheld).toMatchObject({ code: 'm.unverified', room_id: strictRoom, sender: strict.userId });
  expect(nio.withheldKeys()).toContainEqual(withheld);
  expect(nio.events.find((e) => e.event_id === sent)).toBeUndefined();
}, TIMEOUT);
