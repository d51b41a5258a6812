import type { Bundle, CareTeam, FhirResource } from 'fhir/r4.js';
import { GpMatrixClient } from '../ops/lib/gp-matrix-client.js';
import { NioGpClient } from '../ops/lib/nio-gp-client.js';
import { startAuthHub, type AuthHub } from './support/auth-hub.js';
import { entry, matrixEndpoint } from './support/fhir-fixtures.js';
import { registerTestUser, stack } from './support/test-stack.js';
import { waitFor } from './support/wait-for.js';

// A counsellor who has no case system: she opens a case from her own Matrix client, by talking
// to the hub's bot in a direct chat, records the person's consent there, finds and invites the
// GP, and refers to the GP, whose answer comes back to her in the chat. The GP is the libolm
// (matrix-nio) client; key sharing is "all" here, as nio has no cross-signing.

const TIMEOUT = 180_000;
let hubStack: AuthHub;
let counsellor: GpMatrixClient;
let gp: NioGpClient;
let botUserId: string;
let chat: string;

/** The counsellor writes in the chat; resolves with the bot's answer to it. */
async function ask(text: string): Promise<string> {
  const eventId = await counsellor.say(chat, text);
  return String((await counsellor.waitForNoticeAbout(eventId)).getContent()['body']);
}

beforeAll(async () => {
  hubStack = await startAuthHub(['api', 'outbox-relay', 'delivery'], { cases: { timeZone: 'UTC', clockSeconds: 1 } }, (config) => ({ ...config, matrix: { ...config.matrix, keySharing: 'all' } }));
  botUserId = hubStack.hub.bot!.client.getUserId()!;
  const [counsellorUser, gpUser] = await Promise.all([registerTestUser('counsellor-dm'), registerTestUser('gp-dm')]);
  counsellor = await GpMatrixClient.start(stack.homeserverUrl, counsellorUser);
  gp = await NioGpClient.start(gpUser, stack);
  const operator = await hubStack.integrator('county-operator', 'Organization/county', { roles: ['operator'] });
  const people: Array<[string, string, string, string]> = [
    ['Pflegestützpunkt Nord', 'Maren Voss', counsellor.userId, 'care counsellor'],
    ['Praxis Dr. Berg', 'Jonas Berg', gp.userId, 'general practitioner'],
  ];
  const entries = people.flatMap(([organization, person, userId, what], index) => {
    const urn = (n: number) => `urn:uuid:d1ec0000-0000-4000-8000-00000000${index}${n}00`;
    const [given, family] = person.split(' ') as [string, string];
    return [
      entry(urn(1), { resourceType: 'Organization', active: true, name: organization, address: [{ city: 'Hamburg' }] }),
      entry(urn(2), { resourceType: 'Practitioner', active: true, name: [{ given: [given], family }] }),
      entry(urn(3), matrixEndpoint(userId, urn(1))),
      entry(urn(4), { resourceType: 'PractitionerRole', active: true, practitioner: { reference: urn(2) }, organization: { reference: urn(1) }, endpoint: [{ reference: urn(3) }], code: [{ text: what }] } as FhirResource),
    ];
  });
  expect((await operator.request('POST', '', { body: { resourceType: 'Bundle', type: 'transaction', entry: entries } satisfies Bundle })).status).toBe(200);

  // "Start chat" in Element: a private room with the bot, encrypted, where the invitee is as powerful as its creator.
  chat = (
    await counsellor.client.createRoom({
      preset: 'trusted_private_chat' as never,
      is_direct: true,
      invite: [botUserId],
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    })
  ).room_id;
}, TIMEOUT);

afterAll(async () => {
  counsellor?.stop();
  await gp?.stop();
  await hubStack?.stop();
}, TIMEOUT);

test('the counsellor opens a case from her Matrix client: consent first, then the case, the GP invited from a directory search, and a referral whose answer comes back to her', async () => {
  const welcome = await counsellor.waitForEvent('the bot’s welcome', (e) => e.getRoomId() === chat && String(e.getContent()['body']).startsWith('👋 Hello Maren Voss'));
  expect(welcome.isEncrypted()).toBe(true);

  expect(await ask('good morning')).toMatch(/did not understand[\s\S]*case open/);
  // No consent yet: refused, and told how to record it.
  expect(await ask('case open Ingrid Halvorsen, born 1941-05-02: discharge planning after hip fracture')).toMatch(/No active Consent[\s\S]*consent <how it was given>/);
  expect(await ask('case invite Berg Hamburg')).toMatch(/1\. Jonas Berg — Praxis Dr\. Berg, Hamburg \(general practitioner\)/);
  const recorded = await ask('consent signed form for 1');
  expect(recorded).toMatch(/Consent recorded \(signed form\), for Pflegestützpunkt Nord, Praxis Dr\. Berg/);
  const opened = await counsellor.waitForEvent('the case opened', (e) => e.getRoomId() === chat && String(e.getContent()['body']).startsWith('📂 Case CH-'));
  expect(opened.getContent()['body']).toContain('about Ingrid Halvorsen');

  // The case is a CareTeam like any integrator's, with her role as moderator, and its room is hers.
  const { rows } = await hubStack.hub.db.query<{ content: CareTeam; room_id: string | null }>(
    `SELECT r.content, c.room_id FROM resources r LEFT JOIN case_rooms c ON c.care_team_id = r.id WHERE r.resource_type = 'CareTeam'`,
  );
  expect(rows).toHaveLength(1);
  const careTeamId = (rows[0]!.content as CareTeam & { id: string }).id;
  const roomId = await waitFor(async () => {
    const { rows: found } = await hubStack.hub.db.query<{ room_id: string | null }>('SELECT room_id FROM case_rooms WHERE care_team_id = $1', [careTeamId]);
    return found[0]?.room_id ?? undefined;
  }, 'the case room');
  await counsellor.waitForEvent('the case summary', (e) => e.getRoomId() === roomId && String(e.getContent()['body']).includes('About: Ingrid Halvorsen (born 1941-05-02)'));

  expect(await ask('case invite 1')).toMatch(/Invited into the case: Jonas Berg/);
  await gp.waitForJoin(roomId);
  // History is visible from each member's invitation on, so the summary is sent again (and
  // pinned instead) for him: the first one was sent when only the counsellor was in.
  const summary = await gp.waitForEvent('the case summary, sent again for him', (e) => e.room_id === roomId && String(e.content['body']).startsWith('📌 Case'));
  expect(summary.content['body']).toContain('About: Ingrid Halvorsen (born 1941-05-02)');
  // History is visible from each member's invitation on: the GP reads what is said after it.
  const hello = await counsellor.say(roomId, 'Welcome, Dr. Berg: discharge is planned for Friday.');
  await gp.waitForEvent('the counsellor’s message', (e) => e.event_id === hello);

  // A referral from Matrix: a ServiceRequest and Task from her role, delivered like an integrator's.
  expect(await ask('refer 1: home visit for wound care')).toMatch(/Referral sent to Jonas Berg/);
  const referral = await gp.waitForEvent('the referral', (e) => (e.content['org.carehub.referral'] as { task?: string } | undefined)?.task !== undefined && !e.content['m.relates_to']);
  expect(referral.content['body']).toContain('Ingrid Halvorsen');
  expect(referral.content['body']).toContain('home visit for wound care');
  await gp.react(referral, '✅');
  const answer = await counsellor.waitForEvent('the referral’s status', (e) => e.getRoomId() === chat && String(e.getContent()['body']).includes('is now accepted'));
  expect(answer.getContent()['body']).toContain('Jonas Berg, Praxis Dr. Berg');
}, TIMEOUT);
