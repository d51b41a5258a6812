import type { AuditEvent, CareTeam, RelatedPerson } from 'fhir/r4.js';
import { CASE_ROLE } from '../hub/src/cases/case-roles.js';
import { Redis } from 'ioredis';
import { GpMatrixClient } from '../ops/lib/gp-matrix-client.js';
import { startCaseNetwork, type CaseNetwork, type MemberPlan } from './support/case-network.js';
import { stack } from './support/test-stack.js';
import { waitFor } from './support/wait-for.js';

// A counsellor invites the person's daughter into the case room as a guest: a one-time link,
// handed to the counsellor in her direct chat with the bot, makes a limited account on the
// hub's homeserver that works only in that room. The guest is a matrix-js-sdk client of her
// own; the GP reads her (matrix-nio with libolm). A second link is never used and expires.

const TIMEOUT = 360_000;
const MEMBERS = {
  counsellor: { client: 'matrix-js', localpart: 'counsellor-guest', organization: 'Pflegestützpunkt Nord', person: 'Maren Voss' },
  gp: { client: 'nio', localpart: 'gp-guest', organization: 'Praxis Dr. Berg', person: 'Jonas Berg' },
} as const satisfies Record<string, MemberPlan>;

let network: CaseNetwork<typeof MEMBERS>;
let counsellor: GpMatrixClient;
let guest: GpMatrixClient | undefined;
let roomId: string;
let careTeamId: string;
let chat: string;

/** The counsellor writes in a room; resolves with the bot's answer to it. */
async function ask(where: string, text: string): Promise<string> {
  const eventId = await counsellor.say(where, text);
  return String((await counsellor.waitForNoticeAbout(eventId, 150_000)).getContent()['body']);
}

/** The next one-time link the bot gives the counsellor in her direct chat. */
async function nextLink(seen: Set<string>): Promise<string> {
  const event = await counsellor.waitForEvent('a guest link', (e) => e.getRoomId() === chat && /\/guest\/[A-Za-z0-9_-]{43}/.test(String(e.getContent()['body'])) && !seen.has(e.getId()!), 150_000);
  seen.add(event.getId()!);
  return /(https?:\/\/\S+\/guest\/[A-Za-z0-9_-]{43})/.exec(String(event.getContent()['body']))![1]!;
}

const post = (link: string) => fetch(link, { method: 'POST', redirect: 'manual' });

async function passwordLogin(userId: string, password: string): Promise<Response> {
  return fetch(new URL('/_matrix/client/v3/login', stack.homeserverUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user: userId }, password, initial_device_display_name: 'guest phone' }),
  });
}

async function readCareTeam(): Promise<CareTeam> {
  return (await network.office.request('GET', `CareTeam/${careTeamId}`)).body as CareTeam;
}

/** The case's AuditEvents, as the hub stored them (auditors read them; the case system is no auditor). */
async function caseSteps(): Promise<AuditEvent[]> {
  const { rows } = await network.hub.hub.db.query<{ content: AuditEvent }>(`SELECT content FROM resources WHERE resource_type = 'AuditEvent' AND content @> $1::jsonb`, [
    JSON.stringify({ entity: [{ what: { reference: `CareTeam/${careTeamId}` } }] }),
  ]);
  return rows.map((row) => row.content);
}
const stepCodes = async () => (await caseSteps()).map((a) => a.subtype?.[0]?.code);

/** The jobs in Redis before this test's hub started (other hubs' queues, kept for a day): not this test's. */
const jobKeysBefore = new Set<string>();
const JOB_KEYS = 'carehub-test-*:matrix-delivery:*';

beforeAll(async () => {
  const redis = new Redis(stack.redisUrl);
  for (const key of await redis.keys(JOB_KEYS)) jobKeysBefore.add(key);
  redis.disconnect();
  network = await startCaseNetwork({ name: 'guest', cases: { timeZone: 'UTC', clockSeconds: 1, guestLinkHours: 1, guestAccessDays: 2 }, hubHasAdminToken: true, members: MEMBERS, office: 'counsellor' });
  counsellor = network.members.counsellor.client;

  // Her direct chat with the bot, where guest links are handed over.
  chat = (
    await counsellor.client.createRoom({
      preset: 'trusted_private_chat' as never,
      is_direct: true,
      invite: [network.botUserId],
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    })
  ).room_id;
  await counsellor.waitForEvent('the bot’s welcome', (e) => e.getRoomId() === chat && String(e.getContent()['body']).startsWith('👋 Hello Maren Voss'));

  const subject = await network.createPatient({ given: 'Ole', family: 'Nielsen', birthDate: '1938-11-20' });
  expect((await network.office.request('POST', 'Consent', { body: network.consent(subject, [network.members.gp.organization]) })).status).toBe(201);
  const opened = await network.office.request('POST', 'CareTeam', {
    body: {
      resourceType: 'CareTeam',
      status: 'active',
      identifier: [{ value: 'PB-2026-0101' }],
      category: [{ text: 'Care counselling' }],
      subject: { reference: subject },
      managingOrganization: [{ reference: network.members.counsellor.organization }],
      participant: [{ role: [{ coding: [CASE_ROLE.moderator] }], member: { reference: network.members.counsellor.role } }, { member: { reference: network.members.gp.role } }],
    } satisfies CareTeam,
  });
  expect({ status: opened.status, issue: opened.body.issue }).toEqual({ status: 201, issue: undefined });
  careTeamId = opened.body.id;
  roomId = await network.caseRoom(careTeamId);
  await counsellor.waitForEvent('the pinned summary', (e) => e.getRoomId() === roomId && String(e.getContent()['body']).startsWith('📌 Case PB-2026-0101'));
  await network.members.gp.client.waitForJoin(roomId);
}, TIMEOUT);

afterAll(async () => {
  guest?.stop();
  await network?.stop();
}, TIMEOUT);

describe("the person's daughter joins the case as a guest", () => {
  const links = new Set<string>();
  let link: string;
  let account: { userId: string; password: string };

  test('only a moderator may invite a guest, and a guest needs a name and how she was identified', async () => {
    const gp = network.members.gp.client;
    const refused = await gp.say(roomId, '!guest Anna Nielsen, daughter: ID card seen');
    const answer = await gp.waitForEvent('the refusal', (e) => e.room_id === roomId && (e.content['m.relates_to'] as { 'm.in_reply_to'?: { event_id?: string } } | undefined)?.['m.in_reply_to']?.event_id === refused);
    expect(answer.content['body']).toBe("⚠️ Only the case's moderators can invite guests.");
    expect(await ask(roomId, '!guest Anna Nielsen, daughter')).toMatch(/^⚠️ Say how you made sure who the guest is/);
  }, TIMEOUT);

  test('the counsellor invites her; the one-time link comes to the counsellor alone, in her direct chat', async () => {
    const answer = await ask(roomId, '!guest Anna Nielsen, daughter: ID card seen in person');
    expect(answer).toMatch(/^🎟️ Anna Nielsen \(daughter\) is invited as a guest\. Maren Voss has their one-time link in a direct chat with me: it works once, until .*\. Their access ends /);
    link = await nextLink(links);
    expect(link.startsWith(`${network.hub.baseUrl}/guest/`)).toBe(true);
    // The link is in no case room message.
    expect(counsellor.eventsIn(roomId).some((e) => String(e.getContent()['body']).includes(link))).toBe(false);

    // The CareTeam holds her as a guest, a RelatedPerson of the person, until her access ends.
    const seat = (await readCareTeam()).participant!.find((p) => p.role?.[0]?.coding?.[0]?.code === 'guest')!;
    expect(seat.member!.reference).toMatch(/^RelatedPerson\//);
    expect(new Date(seat.period!.end!).getTime() - new Date(seat.period!.start!).getTime()).toBe(2 * 24 * 3_600_000);
    const relative = (await network.office.request('GET', seat.member!.reference!)).body as RelatedPerson;
    expect({ name: relative.name?.[0]?.text, relationship: relative.relationship?.[0]?.text, patient: relative.patient.reference }).toEqual({ name: 'Anna Nielsen', relationship: 'daughter', patient: (await readCareTeam()).subject!.reference });
    const invited = (await caseSteps()).find((a) => a.subtype?.[0]?.code === 'case-guest-invited')!;
    expect(invited.entity?.[0]?.description).toBe(`${seat.member!.reference} identified by: ID card seen in person`);
  }, TIMEOUT);

  test('opening the link (as a mail scanner would) uses nothing up; pressing its button makes her account, once', async () => {
    for (let i = 0; i < 2; i++) {
      const opened = await fetch(link);
      expect(opened.status).toBe(200);
      expect(opened.headers.get('cache-control')).toBe('no-store');
      expect(await opened.text()).toContain('<form method="post">');
    }
    const used = await post(link);
    expect(used.status).toBe(200);
    const page = await used.text();
    account = { userId: /User name: <code>([^<]+)<\/code>/.exec(page)![1]!, password: /Password: <code>([^<]+)<\/code>/.exec(page)![1]! };
    expect(account.userId).toMatch(/^@guest-[0-9a-f]{16}:/);
    expect(page).toContain('Case PB-2026-0101 · Care counselling');

    // Used: the link opens nothing any more, by GET or POST.
    expect((await post(link)).status).toBe(410);
    expect((await fetch(link)).status).toBe(410);
    expect((await fetch(`${network.hub.baseUrl}/guest/not-a-link`)).status).toBe(410);
  }, TIMEOUT);

  test('she signs in with her own Matrix client, joins, reads the room and writes; the GP (libolm) reads her', async () => {
    const login = await passwordLogin(account.userId, account.password);
    expect(login.status).toBe(200);
    const session = (await login.json()) as { user_id: string; access_token: string; device_id: string };
    guest = await GpMatrixClient.start(stack.homeserverUrl, { userId: session.user_id, accessToken: session.access_token, deviceId: session.device_id, password: account.password });
    await counsellor.waitForEvent('the joined notice', (e) => e.getRoomId() === roomId && e.getContent()['body'] === '👋 Anna Nielsen (daughter) joined the case as a guest.');
    await waitFor(async () => (counsellor.client.getRoom(roomId)?.getMember(account.userId)?.membership === 'join' ? true : undefined), 'the guest joined the room');

    await counsellor.say(roomId, 'Welcome, Anna. The home visit is on Thursday.');
    const welcome = await guest.waitForEvent('the counsellor’s welcome', (e) => e.getRoomId() === roomId && e.getContent()['body'] === 'Welcome, Anna. The home visit is on Thursday.');
    expect(welcome.isEncrypted()).toBe(true);
    await guest.say(roomId, 'Thank you, Thursday works for my father.');
    await network.members.gp.client.waitForEvent('the guest’s message', (e) => e.room_id === roomId && e.sender === account.userId && e.content['body'] === 'Thank you, Thursday works for my father.');

    // Her name is in no readable room state: her member event says "Guest".
    const state = await network.roomState(roomId);
    const member = state.find((e) => e.type === 'm.room.member' && e.state_key === account.userId)!;
    expect(member.content['displayname']).toBe('Guest');
    expect(JSON.stringify(state)).not.toContain('Anna');
    expect(await stepCodes()).toEqual(expect.arrayContaining(['case-guest-invited', 'case-guest-joined']));
  }, TIMEOUT);

  test('her account works in that room only: the homeserver refuses her a room of her own, an invitation, and a room she was not invited to', async () => {
    const client = guest!.client;
    await expect(client.createRoom({ name: 'elsewhere' })).rejects.toMatchObject({ errcode: 'M_FORBIDDEN' });
    await expect(client.invite(roomId, network.members.gp.userId)).rejects.toMatchObject({ errcode: 'M_FORBIDDEN' });
    const open = await counsellor.client.createRoom({ preset: 'public_chat' as never, visibility: 'private' as never, name: 'an open room' });
    await expect(client.joinRoom(open.room_id)).rejects.toMatchObject({ errcode: 'M_FORBIDDEN' });
  }, TIMEOUT);

  test('"!guests" lists her; "!guest end" ends her access at once: out of the room, account deactivated, participation ended', async () => {
    expect(await ask(roomId, '!guests')).toMatch(new RegExp(`Anna Nielsen \\(daughter\\): joined as ${account.userId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, access until .*; identified by ID card seen in person`));
    expect(await ask(roomId, '!guest end Anna Nielsen')).toBe("🚪 Anna Nielsen's guest access has ended.");
    await waitFor(async () => ((await passwordLogin(account.userId, account.password)).status === 403 ? true : undefined), 'the guest account deactivated');
    // Out of the room as the homeserver stores it (clients' syncs follow; under load, by up to a minute).
    const membership = async () => (await network.roomState(roomId)).find((e) => e.type === 'm.room.member' && e.state_key === account.userId)?.content['membership'];
    await waitFor(async () => ((await membership()) === 'leave' ? true : undefined), 'the guest out of the room');
    const seat = (await readCareTeam()).participant!.find((p) => p.role?.[0]?.coding?.[0]?.code === 'guest')!;
    expect(new Date(seat.period!.end!).getTime()).toBeLessThanOrEqual(Date.now());
    expect(await stepCodes()).toContain('case-guest-ended');
    expect(await ask(roomId, '!guest end Anna Nielsen')).toMatch(/^⚠️ Anna Nielsen is no guest of this case whose access is still open/);
  }, TIMEOUT);

  test('a link never used expires: it opens nothing, and the seat it held ends', async () => {
    expect(await ask(roomId, '!guest Ole Nielsen, self: known to me from home visits')).toMatch(/^🎟️ Ole Nielsen \(the person\) is invited as a guest\./);
    const unused = await nextLink(links);
    expect((await fetch(unused)).status).toBe(200);
    // An hour passes (cases.guestLinkHours: 1): the link's time is moved back rather than waited for.
    await network.hub.hub.db.query("UPDATE case_guests SET link_expires_at = now() - interval '1 second' WHERE state = 'issued'");
    await counsellor.waitForEvent('the expiry notice', (e) => e.getRoomId() === roomId && e.getContent()['body'] === "⌛ Ole Nielsen (the person)'s guest link was not used in time and no longer works.", 150_000);
    expect((await fetch(unused)).status).toBe(410);
    expect((await post(unused)).status).toBe(410);
    const careTeam = await readCareTeam();
    const seat = careTeam.participant!.find((p) => p.member?.reference === careTeam.subject!.reference)!;
    expect(new Date(seat.period!.end!).getTime()).toBeLessThanOrEqual(Date.now());
    expect(await stepCodes()).toContain('case-guest-link-expired');
  }, TIMEOUT);

  test("no job in Redis carries the person's or the guest's name: jobs name their outbox row only", async () => {
    const redis = new Redis(stack.redisUrl);
    try {
      const keys = (await redis.keys(JOB_KEYS)).filter((key) => !jobKeysBefore.has(key));
      const jobs: string[] = [];
      for (const key of keys) if ((await redis.type(key)) === 'hash') jobs.push((await redis.hget(key, 'data')) ?? '');
      const ours = jobs.filter((data) => data.startsWith('{"outboxId"'));
      expect(ours.length).toBeGreaterThan(10);
      expect(jobs.filter((data) => /Nielsen|Anna|Ole/.test(data))).toEqual([]);
      for (const data of ours) expect(Object.keys(JSON.parse(data) as object)).toEqual(['outboxId']);
    } finally {
      redis.disconnect();
    }
  }, TIMEOUT);
});
