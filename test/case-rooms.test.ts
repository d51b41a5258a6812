import { createHash } from 'node:crypto';
import type { Bundle, CareTeam, Communication, Consent, DocumentReference } from 'fhir/r4.js';
import { KEEP_CONVERSATION_EXTENSION } from '../hub/src/cases/case-conversation.js';
import { CASE_ROLE } from '../hub/src/cases/case-roles.js';
import type { GpMatrixClient } from '../ops/lib/gp-matrix-client.js';
import type { NioGpClient } from '../ops/lib/nio-gp-client.js';
import type { AuthHub, Integrator } from './support/auth-hub.js';
import { startCaseNetwork, type CaseNetwork, type MemberPlan } from './support/case-network.js';
import { stack } from './support/test-stack.js';
import { waitFor } from './support/wait-for.js';

// A care counsellor's case room, tried with three clients the hub's SDK did not write for it,
// each its own account, device and crypto: the counsellor and the home-care nurse on
// matrix-js-sdk logins of their own, the GP on matrix-nio with libolm. The counselling office's
// case system opens the case by FHIR; everything after that happens in the room.
// Key sharing is "all" in this hub: nio has no cross-signing, so it could not be verified.

const TIMEOUT = 240_000;
// The counselling office, the GP practice, the home-care service and a clinic, each with one person on Matrix.
const MEMBERS = {
  counsellor: { client: 'matrix-js', localpart: 'counsellor-voss', organization: 'Pflegestützpunkt Nord', person: 'Maren Voss', roleText: 'office' },
  gp: { client: 'nio', localpart: 'gp-berg', organization: 'Praxis Dr. Berg', person: 'Jonas Berg', roleText: 'practice' },
  nurse: { client: 'matrix-js', localpart: 'nurse-hoffmann', organization: 'Ambulanter Pflegedienst Elbe', person: 'Lea Hoffmann', roleText: 'homecare' },
  clinic: { client: 'none', localpart: 'dr-clinic', organization: 'Klinikum Süd', person: 'Tom Richter', roleText: 'clinic' },
} as const satisfies Record<string, MemberPlan>;
let network: CaseNetwork<typeof MEMBERS>;
let hubStack: AuthHub;
let office: Integrator;
let counsellor: GpMatrixClient;
let nurse: GpMatrixClient;
let gp: NioGpClient;
let botUserId: string;
let roomId: string;
let careTeamId: string;

const PERSON = { given: 'Ingrid', family: 'Halvorsen', birthDate: '1941-05-02' };
const role = (key: keyof typeof MEMBERS) => network.members[key].role;
const organization = (key: keyof typeof MEMBERS) => network.members[key].organization;

const rawRoomState = () => network.roomState(roomId);

const powerLevels = async () => rawRoomState().then((state) => state.find((e) => e.type === 'm.room.power_levels')!.content as { users: Record<string, number>; events_default: number });

/** Who is joined or invited, by the homeserver's stored state, less the bot. */
async function roomMembers(): Promise<string[]> {
  const state = await rawRoomState();
  return state
    .filter((e) => e.type === 'm.room.member' && ['join', 'invite'].includes(String(e.content['membership'])) && e.state_key !== botUserId)
    .map((e) => e.state_key)
    .sort();
}

async function readCareTeam(): Promise<CareTeam> {
  const answer = await office.request('GET', `CareTeam/${careTeamId}`);
  expect(answer.status).toBe(200);
  return answer.body as CareTeam;
}

/** The Matrix users of the CareTeam's participants whose period has not ended. */
async function careTeamUsers(): Promise<string[]> {
  const userOfRole: Record<string, string> = {
    [role('counsellor')]: counsellor.userId,
    [role('gp')]: gp.userId,
    [role('nurse')]: nurse.userId,
  };
  const now = Date.now();
  return (await readCareTeam()).participant!
    .filter((p) => !p.period?.end || new Date(p.period.end).getTime() > now)
    .map((p) => userOfRole[p.member!.reference!]!)
    .sort();
}

/** CareTeam and room agree: the room holds exactly the users of the active participants. */
async function expectRoomToMatchCareTeam(): Promise<void> {
  const expected = await careTeamUsers();
  await waitFor(async () => (JSON.stringify(await roomMembers()) === JSON.stringify(expected) ? true : undefined), `room members ${expected.join(', ')}`);
}

const levelOf = (levels: { users: Record<string, number> }, user: string) => levels.users[user] ?? 0;

async function untilPowerLevels(what: string, holds: (levels: Awaited<ReturnType<typeof powerLevels>>) => boolean): Promise<void> {
  await waitFor(async () => (holds(await powerLevels()) ? true : undefined), what);
}

/** The counsellor types a command; resolves with the bot's answer (a notice replying to it). */
async function command(text: string): Promise<string> {
  const eventId = await counsellor.say(roomId, text);
  const notice = await counsellor.waitForNoticeAbout(eventId);
  return String(notice.getContent()['body']);
}

async function sendRefused(send: () => Promise<unknown>): Promise<void> {
  await expect(send()).rejects.toThrow(/M_FORBIDDEN|403|Forbidden|not allowed|power/i);
}

function careTeam(patient: string, members: string[]): CareTeam {
  return {
    resourceType: 'CareTeam',
    status: 'active',
    identifier: [{ system: 'urn:example:county-cases', value: 'PB-2026-0042' }],
    category: [{ text: 'Care counselling' }],
    // Integrators do write such names: the room must never show it.
    name: `Care team for ${PERSON.given} ${PERSON.family}`,
    subject: { reference: patient },
    period: { start: new Date().toISOString() },
    managingOrganization: [{ reference: organization('counsellor') }],
    reasonCode: [{ text: 'Discharge planning after hip fracture' }],
    // The case system wants the conversation kept (for its own record and the transcript).
    extension: [{ url: KEEP_CONVERSATION_EXTENSION, valueBoolean: true }],
    participant: [
      { role: [{ coding: [CASE_ROLE.moderator] }], member: { reference: role('counsellor') } },
      ...members.map((member) => ({ member: { reference: member } })),
    ],
  };
}

const createPatient = (given: string) => network.createPatient({ ...PERSON, given });

beforeAll(async () => {
  // The hub gets the operators' Synapse admin token, so it purges closed case rooms; members go at once after the close here.
  network = await startCaseNetwork({ name: 'case', cases: { timeZone: 'UTC', clockSeconds: 1, removeMembersAfterDays: 0 }, hubHasAdminToken: true, members: MEMBERS, office: 'counsellor' });
  ({ hub: hubStack, office, botUserId } = network);
  counsellor = network.members.counsellor.client;
  nurse = network.members.nurse.client;
  gp = network.members.gp.client;
}, TIMEOUT);

afterAll(() => network?.stop(), TIMEOUT);

describe('consent first', () => {
  test('a case about a person without an active Consent is refused, says why, and no room is made', async () => {
    const patient = await createPatient('Without');
    const answer = await office.request('POST', 'CareTeam', { body: careTeam(patient, [role('gp')]) });
    expect(answer.status).toBe(422);
    expect(answer.body.issue[0].diagnostics).toMatch(/No active Consent/);
    const { rows } = await hubStack.hub.db.query("SELECT 1 FROM resources WHERE resource_type = 'CareTeam'");
    expect(rows).toHaveLength(0);
  });

  test('inviting an organisation the Consent does not cover is refused, naming who', async () => {
    const patient = await createPatient('Narrow');
    expect((await office.request('POST', 'Consent', { body: network.consent(patient, [organization('gp')]) })).status).toBe(201);
    const answer = await office.request('POST', 'CareTeam', { body: careTeam(patient, [role('gp'), role('clinic')]) });
    expect(answer.status).toBe(422);
    expect(answer.body.issue[0].diagnostics).toContain(`does not cover ${role('clinic')}`);
    expect(answer.body.issue[0].diagnostics).not.toContain(role('gp'));
  });
});

describe('a case opened by FHIR', () => {
  let patient: string;
  let consentId: string;

  beforeAll(async () => {
    patient = await createPatient(PERSON.given);
    const recorded = await office.request('POST', 'Consent', { body: network.consent(patient, [organization('gp'), organization('nurse')]) });
    expect({ status: recorded.status, issue: recorded.body.issue }).toEqual({ status: 201, issue: undefined });
    consentId = recorded.body.id;
    const opened = await office.request('POST', 'CareTeam', { body: careTeam(patient, [role('gp'), role('nurse')]) });
    expect({ status: opened.status, issue: opened.body.issue }).toEqual({ status: 201, issue: undefined });
    careTeamId = opened.body.id;
    roomId = await network.caseRoom(careTeamId);
  }, TIMEOUT);

  test('the counsellor, the GP (libolm) and the nurse are in an encrypted, invite-only room named by case number and service, and each reads the pinned summary', async () => {
    await expectRoomToMatchCareTeam();
    const state = await rawRoomState();
    const content = (type: string) => state.find((e) => e.type === type)?.content;
    expect(content('m.room.name')).toEqual({ name: 'Case PB-2026-0042 · Care counselling' });
    expect(content('m.room.encryption')).toMatchObject({ algorithm: 'm.megolm.v1.aes-sha2' });
    expect(content('m.room.join_rules')).toEqual({ join_rule: 'invite' });
    expect(content('org.carehub.room')).toEqual({ kind: 'case', careTeam: `CareTeam/${careTeamId}` });
    const levels = await powerLevels();
    expect(levelOf(levels, botUserId)).toBe(100);
    expect(levelOf(levels, counsellor.userId)).toBe(50);

    const isSummary = (body: unknown) => String(body).startsWith('📌 Case PB-2026-0042');
    const summary = await counsellor.waitForEvent('the pinned summary', (e) => e.getRoomId() === roomId && isSummary(e.getContent()['body']));
    expect(summary.getContent()['body']).toContain(`About: ${PERSON.given} ${PERSON.family} (born ${PERSON.birthDate})`);
    expect(summary.isEncrypted()).toBe(true);
    expect(content('m.room.pinned_events')).toEqual({ pinned: [summary.getId()] });
    const nioSummary = await gp.waitForEvent('the pinned summary', (e) => e.room_id === roomId && isSummary(e.content['body']));
    expect(nioSummary.encrypted).toBe(true);
    await nurse.waitForEvent('the pinned summary', (e) => e.getRoomId() === roomId && isSummary(e.getContent()['body']));
  });

  test("the homeserver's stored state for the room holds no name or birth date of the person", async () => {
    const raw = JSON.stringify(await rawRoomState());
    for (const personal of [PERSON.given, PERSON.family, PERSON.birthDate, 'hip fracture']) expect(raw).not.toContain(personal);
  });

  test('what the members write reaches each other, across both crypto implementations', async () => {
    const fromGp = await gp.say(roomId, 'I can see Mrs H. on Thursday.');
    await counsellor.waitForEvent('the GP’s message', (e) => e.getId() === fromGp);
    await nurse.waitForEvent('the GP’s message', (e) => e.getId() === fromGp);
    const fromNurse = await nurse.say(roomId, 'Morning visits are possible from Monday.');
    await gp.waitForEvent('the nurse’s message', (e) => e.event_id === fromNurse);
  });

  test("what members write is kept as Communications to the case, from each member's role, when the case says so", async () => {
    const kept = await waitFor(async () => {
      const answer = await office.request('GET', `Communication?recipient=CareTeam/${careTeamId}`);
      const found = (answer.body as Bundle).entry?.map((e) => e.resource as Communication) ?? [];
      return found.some((c) => c.payload?.[0]?.contentString === 'Morning visits are possible from Monday.') ? found : undefined;
    }, 'the kept conversation');
    const fromGp = kept.find((c) => c.payload?.[0]?.contentString === 'I can see Mrs H. on Thursday.');
    expect(fromGp?.sender).toEqual({ reference: role('gp') });
    expect(fromGp?.subject?.reference).toMatch(/^Patient\//);
  });

  test("an integrator's Communication to the case appears in the room as the sending organisation's message, and is not kept twice", async () => {
    const practiceSystem = await hubStack.integrator('practice-system', organization('gp'));
    const posted = await practiceSystem.request('POST', 'Communication', {
      body: { resourceType: 'Communication', status: 'completed', recipient: [{ reference: `CareTeam/${careTeamId}` }], sender: { reference: organization('gp') }, payload: [{ contentString: 'Lab results are in: HbA1c 6.9 %.' }] } satisfies Communication,
    });
    expect(posted.status).toBe(201);
    const expected = '💬 Praxis Dr. Berg: Lab results are in: HbA1c 6.9 %.';
    const seen = await counsellor.waitForEvent('the practice’s message', (e) => e.getRoomId() === roomId && e.getContent()['body'] === expected);
    expect(seen.getContent()['org.carehub.communication']).toBe(`Communication/${posted.body.id}`);
    const nio = await gp.waitForEvent('the practice’s message', (e) => e.room_id === roomId && e.content['body'] === expected);
    expect(nio.encrypted).toBe(true);
    const all = await office.request('GET', `Communication?recipient=CareTeam/${careTeamId}`);
    expect(((all.body as Bundle).entry ?? []).filter((e) => (e.resource as Communication).payload?.[0]?.contentString === 'Lab results are in: HbA1c 6.9 %.')).toHaveLength(1);
  });

  test('a muted participant’s send is refused by the homeserver; unmuted, it goes through; a timed mute ends by itself', async () => {
    expect(await command(`!mute ${nurse.userId}`)).toMatch(/muted until a moderator unmutes/);
    await untilPowerLevels('the nurse muted', (levels) => levelOf(levels, nurse.userId) < levels.events_default);
    await sendRefused(() => nurse.say(roomId, 'Can I still write?'));
    expect(await command(`!unmute ${nurse.userId}`)).toMatch(/can write again/);
    await untilPowerLevels('the nurse unmuted', (levels) => levelOf(levels, nurse.userId) >= levels.events_default);
    await nurse.say(roomId, 'Back again.');

    expect(await command(`!mute ${nurse.userId} 3s`)).toMatch(/muted until/);
    await untilPowerLevels('the nurse muted for 3 s', (levels) => levelOf(levels, nurse.userId) < levels.events_default);
    await untilPowerLevels('the timed mute over', (levels) => levelOf(levels, nurse.userId) >= levels.events_default);
    await nurse.say(roomId, 'Thanks.');
    await expectRoomToMatchCareTeam();
  });

  test('locking blocks every participant’s send, the moderator’s not; unlocking lets them write again', async () => {
    expect(await command('!lock')).toMatch(/locked/);
    await untilPowerLevels('the room locked', (levels) => levels.events_default >= 50);
    await sendRefused(() => gp.say(roomId, 'Locked?'));
    await sendRefused(() => nurse.say(roomId, 'Locked?'));
    await counsellor.say(roomId, 'We continue on Tuesday.');
    expect(await command('!unlock')).toMatch(/unlocked/);
    await untilPowerLevels('the room unlocked', (levels) => levels.events_default === 0);
    await gp.say(roomId, 'Fine.');
  });

  test('every command answers: an unknown one gets help, a participant’s moderator command a refusal that says why', async () => {
    expect(await command('!frobnicate')).toMatch(/is not a command here/);
    const fromGp = await gp.say(roomId, '!lock');
    const refusal = await counsellor.waitForNoticeAbout(fromGp);
    expect(refusal.getContent()['body']).toMatch(/Only the case's moderators can/);
    expect((await powerLevels()).events_default).toBe(0);
  });

  test('open hours lock and open the room by themselves on a short schedule, with a notice each time', async () => {
    // A one-minute window starting at the next whole minute at least 20 s away (UTC in this hub).
    const start = new Date(Math.ceil((Date.now() + 20_000) / 60_000) * 60_000);
    const end = new Date(start.getTime() + 60_000);
    const hhmm = (at: Date) => (at.getUTCHours() === 0 && at.getUTCMinutes() === 0 && at > start ? '24:00' : at.toISOString().slice(11, 16));
    const day = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][start.getUTCDay()]!;
    expect(await command(`!hours ${day} ${hhmm(start)}-${hhmm(end)}`)).toMatch(/Open hours set/);
    await counsellor.waitForEvent('the closed-by-hours notice', (e) => e.getRoomId() === roomId && String(e.getContent()['body']).startsWith('🌙'));
    await untilPowerLevels('locked outside open hours', (levels) => levels.events_default >= 50);
    await sendRefused(() => nurse.say(roomId, 'Too early?'));
    await counsellor.waitForEvent('the opened-by-hours notice', (e) => e.getRoomId() === roomId && String(e.getContent()['body']).startsWith('🕒 The room is open'), 120_000);
    await untilPowerLevels('open in open hours', (levels) => levels.events_default === 0);
    await nurse.say(roomId, 'Open now.');
    await untilPowerLevels('locked again when the hour is over', (levels) => levels.events_default >= 50);
    expect(await command('!hours off')).toMatch(/open at all times/);
    await untilPowerLevels('open at all times', (levels) => levels.events_default === 0);
  }, TIMEOUT);

  test("a removal with the plain Matrix kick API (as Element's member list does it) ends the nurse's period in the CareTeam; she cannot decrypt what follows", async () => {
    await counsellor.client.kick(roomId, nurse.userId, 'Care moved to another service');
    const ended = await waitFor(async () => {
      const team = await readCareTeam();
      return team.participant!.find((p) => p.member?.reference === role('nurse') && p.period?.end);
    }, "the nurse's participation ended");
    expect(new Date(ended.period!.end!).getTime()).toBeLessThanOrEqual(Date.now());
    await expectRoomToMatchCareTeam();
    await counsellor.waitForEvent('the removal notice', (e) => e.getRoomId() === roomId && String(e.getContent()['body']).includes('was removed from the case by'));

    const after = await counsellor.say(roomId, 'Next visit: Friday 10:00.');
    await gp.waitForEvent('the message after the removal', (e) => e.event_id === after);
    // The event the homeserver stores is Megolm ciphertext under a session the nurse holds no key of.
    const { event } = await network.adminGet<{ event: { type: string; content: { session_id?: string } } }>(`/_synapse/admin/v1/rooms/${encodeURIComponent(roomId)}/context/${encodeURIComponent(after)}`);
    expect(event.type).toBe('m.room.encrypted');
    const nurseSessions = new Set((await nurse.client.getCrypto()!.exportRoomKeys()).filter((k) => k.room_id === roomId).map((k) => k.session_id));
    expect(nurseSessions.size).toBeGreaterThan(0);
    expect(nurseSessions.has(event.content.session_id!)).toBe(false);
    await new Promise((r) => setTimeout(r, 2000));
    expect(nurse.eventsIn(roomId).some((e) => e.getId() === after)).toBe(false);
  });

  test('revoking the Consent removes the members it covered, tells the room, and is recorded', async () => {
    const current = (await office.request('GET', `Consent/${consentId}`)).body as Consent & { id: string };
    const revoked = await office.request('PUT', `Consent/${consentId}`, { body: { ...current, status: 'inactive' } });
    expect(revoked.status).toBe(200);
    await waitFor(async () => ((await careTeamUsers()).join() === counsellor.userId ? true : undefined), 'only the counsellor left in the CareTeam');
    await expectRoomToMatchCareTeam();
    const notice = await counsellor.waitForEvent('the consent notice', (e) => e.getRoomId() === roomId && String(e.getContent()['body']).startsWith('🔐'));
    expect(notice.getContent()['body']).not.toContain(PERSON.family);
    const { rows } = await hubStack.hub.db.query(
      `SELECT 1 FROM resources WHERE resource_type = 'AuditEvent' AND content @> $1::jsonb`,
      [JSON.stringify({ subtype: [{ code: 'case-consent-removal' }], entity: [{ what: { reference: `CareTeam/${careTeamId}` } }] })],
    );
    expect(rows.length).toBeGreaterThan(0);
  });

  test('every moderation step is an AuditEvent naming the case', async () => {
    const { rows } = await hubStack.hub.db.query<{ code: string }>(
      `SELECT content -> 'subtype' -> 0 ->> 'code' AS code FROM resources WHERE resource_type = 'AuditEvent' AND content @> $1::jsonb`,
      [JSON.stringify({ entity: [{ what: { reference: `CareTeam/${careTeamId}` } }] })],
    );
    const codes = new Set(rows.map((r) => r.code));
    for (const step of ['room-opened', 'member-invited', 'muted', 'unmuted', 'mute-ended', 'locked', 'unlocked', 'open-hours-set', 'opened-by-hours', 'locked-by-hours', 'removed-by-moderator', 'consent-removal']) {
      expect([step, codes.has(`case-${step}`)]).toEqual([step, true]);
    }
  });

  test('case close ends the CareTeam, makes the room read-only, exports the transcript (which matches what was said, documents too) and, after the retention, purges the room', async () => {
    const letter = Buffer.from('%PDF-1.4\n% discharge letter of the case\n');
    await counsellor.sendFile(roomId, letter, 'discharge-letter.pdf', 'application/pdf');
    expect(await command('!case close')).toMatch(/closed/);
    await waitFor(async () => ((await readCareTeam()).status === 'inactive' ? true : undefined), 'the CareTeam inactive');
    await untilPowerLevels('the room read-only', (levels) => levels.events_default === 100);
    await sendRefused(() => counsellor.say(roomId, 'One more thing'));

    // The transcript: two documents linked to the CareTeam, a FHIR Bundle and a readable one.
    const transcripts = await waitFor(async () => {
      const answer = await office.request('GET', `DocumentReference?related=CareTeam/${careTeamId}`);
      const found = ((answer.body as Bundle).entry ?? []).map((e) => e.resource as DocumentReference & { id: string }).filter((d) => d.type?.text === 'Case room transcript');
      return found.length === 2 ? found : undefined;
    }, 'the transcript documents');
    const contentOf = async (document: DocumentReference) => {
      const answer = await fetch(`${hubStack.baseUrl}/fhir/${document.content[0]!.attachment.url}`, { headers: { authorization: `Bearer ${office.token}` } });
      expect(answer.status).toBe(200);
      const bytes = Buffer.from(await answer.arrayBuffer());
      expect(createHash('sha1').update(bytes).digest('base64')).toBe(document.content[0]!.attachment.hash);
      return bytes.toString('utf8');
    };
    const fhirForm = transcripts.find((d) => d.content[0]!.attachment.contentType === 'application/fhir+json')!;
    const htmlForm = transcripts.find((d) => d.content[0]!.attachment.contentType === 'text/html')!;
    const bundle = JSON.parse(await contentOf(fhirForm)) as Bundle;
    expect(bundle.type).toBe('collection');
    const said = bundle.entry!.map((e) => (e.resource!.resourceType === 'Communication' ? (e.resource as Communication).payload![0]!.contentString : `📄 ${(e.resource as DocumentReference).description}`));
    const inOrder = ['I can see Mrs H. on Thursday.', 'Morning visits are possible from Monday.', '💬 Praxis Dr. Berg: Lab results are in: HbA1c 6.9 %.', 'Back again.', 'We continue on Tuesday.', 'Fine.', 'Open now.', 'Next visit: Friday 10:00.', '📄 discharge-letter.pdf'];
    expect(said.filter((text) => inOrder.includes(text!))).toEqual(inOrder);
    const fromGp = bundle.entry!.find((e) => (e.resource as Communication).payload?.[0]?.contentString === 'I can see Mrs H. on Thursday.')!.resource as Communication;
    expect(fromGp.sender).toEqual({ reference: role('gp') });
    const letterDocument = bundle.entry!.find((e) => e.resource!.resourceType === 'DocumentReference')!.resource as DocumentReference;
    expect(await contentOf(letterDocument)).toBe(letter.toString('utf8'));
    const html = await contentOf(htmlForm);
    expect(html).toContain(`${PERSON.given} ${PERSON.family}`);
    expect(html).toContain('Morning visits are possible from Monday.');
    expect(html).toContain('Jonas Berg');

    // After the retention (0 days here) the members are removed and the room purged from the homeserver.
    await waitFor(async () => {
      const answer = await fetch(new URL(`/_synapse/admin/v1/rooms/${encodeURIComponent(roomId)}`, stack.homeserverUrl), { headers: { authorization: `Bearer ${network.admin.accessToken}` } });
      return answer.status === 404 ? true : undefined;
    }, 'the room purged');
    // The purge is recorded once Synapse reports it complete.
    await waitFor(async () => {
      const { rows } = await hubStack.hub.db.query<{ code: string }>(
        `SELECT content -> 'subtype' -> 0 ->> 'code' AS code FROM resources WHERE resource_type = 'AuditEvent' AND content @> $1::jsonb`,
        [JSON.stringify({ entity: [{ what: { reference: `CareTeam/${careTeamId}` } }] })],
      );
      const codes = rows.map((r) => r.code);
      return codes.includes('case-transcript-exported') && codes.includes('case-room-purged') ? true : undefined;
    }, 'the export and the purge recorded');
  });
});
