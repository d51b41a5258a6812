import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Appointment, Bundle, CareTeam, Consent, FhirResource, Patient } from 'fhir/r4.js';
import type { MatrixEvent } from 'matrix-js-sdk';
import { CASE_ROLE } from '../hub/src/cases/case-roles.js';
import { GpMatrixClient } from '../ops/lib/gp-matrix-client.js';
import { NioGpClient, type NioEvent } from '../ops/lib/nio-gp-client.js';
import { openSynapseAdminSession, type SynapseAdminSession } from '../ops/lib/synapse-admin-session.js';
import { readRegistrationSecret } from '../ops/stack-info.js';
import { startAuthHub, type AuthHub, type Integrator } from './support/auth-hub.js';
import { entry, matrixEndpoint } from './support/fhir-fixtures.js';
import { registerTestUser, stack } from './support/test-stack.js';
import { waitFor } from './support/wait-for.js';

// A discharge-planning meeting of a case, by FHIR and in the room: the counselling office's case
// system books an Appointment linked to the case; the room gets the meeting as a widget and an
// encrypted invitation; the GP (matrix-nio, libolm) answers yes by a reply, the home-care nurse
// (matrix-js-sdk) no by a ❌ reaction, and both answers land in Appointment.participant; the room
// is reminded a minute before the start. Key sharing is "all": nio has no cross-signing.

const TIMEOUT = 240_000;
const MEETING_BASE_URL = 'https://meet.carehub.test';
let hubStack: AuthHub;
let office: Integrator;
let admin: SynapseAdminSession;
let counsellor: GpMatrixClient;
let nurse: GpMatrixClient;
let gp: NioGpClient;
let botUserId: string;
const ids: Record<string, string> = {};
let roomId: string;
let careTeamId: string;

const PERSON = { given: 'Ingrid', family: 'Halvorsen', birthDate: '1941-05-02' };
const DESCRIPTION = `Discharge planning for ${PERSON.given} ${PERSON.family}`;
const role = (key: string) => `PractitionerRole/${ids[`${key}Role`]}`;

/** The room's state as the homeserver stores it (Synapse admin API), not as any client renders it. */
async function rawRoomState(): Promise<Array<{ type: string; state_key: string; content: Record<string, unknown> }>> {
  const response = await fetch(new URL(`/_synapse/admin/v1/rooms/${encodeURIComponent(roomId)}/state`, stack.homeserverUrl), { headers: { authorization: `Bearer ${admin.accessToken}` } });
  if (!response.ok) throw new Error(`room state: HTTP ${response.status}`);
  return ((await response.json()) as { state: Array<{ type: string; state_key: string; content: Record<string, unknown> }> }).state;
}

const widgetsOf = async () => (await rawRoomState()).filter((e) => e.type === 'im.vector.modular.widgets');

async function readAppointment(id: string): Promise<Appointment> {
  const answer = await office.request('GET', `Appointment/${id}`);
  expect(answer.status).toBe(200);
  return answer.body as Appointment;
}

const statusOf = (appointment: Appointment, reference: string) => appointment.participant.find((p) => p.actor?.reference === reference)?.status;

beforeAll(async () => {
  const adminDir = mkdtempSync(join(tmpdir(), 'carehub-meeting-admin-'));
  admin = await openSynapseAdminSession({ homeserverUrl: stack.homeserverUrl, sharedSecret: readRegistrationSecret(stack), localpart: `meeting-admin-${Date.now()}`, passwordFile: join(adminDir, 'password') });
  hubStack = await startAuthHub(['api', 'outbox-relay', 'delivery'], { cases: { timeZone: 'UTC', clockSeconds: 1, meetingBaseUrl: MEETING_BASE_URL, meetingReminderMinutes: 1 } }, (config) => ({
    ...config,
    matrix: { ...config.matrix, keySharing: 'all' },
  }));
  botUserId = hubStack.hub.bot!.client.getUserId()!;
  const [counsellorUser, nurseUser, gpUser] = await Promise.all([registerTestUser('counsellor-lund'), registerTestUser('nurse-brandt'), registerTestUser('gp-sander')]);
  counsellor = await GpMatrixClient.start(stack.homeserverUrl, counsellorUser);
  nurse = await GpMatrixClient.start(stack.homeserverUrl, nurseUser);
  gp = await NioGpClient.start(gpUser, stack);

  // The directory: the counselling office, the GP practice and the home-care service, one person each on Matrix.
  const operator = await hubStack.integrator('county-operator', 'Organization/county', { roles: ['operator'] });
  const people: Array<[string, string, string, string]> = [
    ['counsellor', 'Pflegestützpunkt Nord', 'Maren Lund', counsellor.userId],
    ['gp', 'Praxis Dr. Sander', 'Jonas Sander', gp.userId],
    ['nurse', 'Ambulanter Pflegedienst Elbe', 'Lea Brandt', nurse.userId],
  ];
  const entries = people.flatMap(([, organization, person, userId], index) => {
    const urn = (n: number) => `urn:uuid:3ee70000-0000-4000-8000-00000000${index}${n}00`;
    const [given, family] = person.split(' ') as [string, string];
    return [
      entry(urn(1), { resourceType: 'Organization', active: true, name: organization }),
      entry(urn(2), { resourceType: 'Practitioner', active: true, name: [{ given: [given], family }] }),
      entry(urn(3), matrixEndpoint(userId, urn(1))),
      entry(urn(4), { resourceType: 'PractitionerRole', active: true, practitioner: { reference: urn(2) }, organization: { reference: urn(1) }, endpoint: [{ reference: urn(3) }] } as FhirResource),
    ];
  });
  const directory = await operator.request('POST', '', { body: { resourceType: 'Bundle', type: 'transaction', entry: entries } satisfies Bundle });
  expect(directory.status).toBe(200);
  const created = (directory.body as Bundle).entry!.map((e) => e.resource!);
  people.forEach(([key], index) => {
    ids[key] = `Organization/${created[index * 4]!.id}`;
    ids[`${key}Role`] = created[index * 4 + 3]!.id!;
  });
  office = await hubStack.integrator('office-case-system', ids['counsellor']!);

  // The case: a person, her Consent for the practice and the home-care service, the CareTeam.
  const patient: Patient = { resourceType: 'Patient', name: [{ given: [PERSON.given], family: PERSON.family }], birthDate: PERSON.birthDate };
  const patientAnswer = await office.request('POST', 'Patient', { body: patient });
  expect(patientAnswer.status).toBe(201);
  const subject = `Patient/${patientAnswer.body.id}`;
  const consent: Consent = {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: { reference: subject },
    dateTime: new Date(Date.now() - 60_000).toISOString(),
    organization: [{ reference: ids['counsellor']! }],
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      actor: [ids['gp']!, ids['nurse']!].map((reference) => ({ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { reference } })),
    },
  };
  expect((await office.request('POST', 'Consent', { body: consent })).status).toBe(201);
  const careTeam: CareTeam = {
    resourceType: 'CareTeam',
    status: 'active',
    identifier: [{ value: 'PB-2026-0077' }],
    category: [{ text: 'Care counselling' }],
    subject: { reference: subject },
    managingOrganization: [{ reference: ids['counsellor']! }],
    participant: [{ role: [{ coding: [CASE_ROLE.moderator] }], member: { reference: role('counsellor') } }, { member: { reference: role('gp') } }, { member: { reference: role('nurse') } }],
  };
  const opened = await office.request('POST', 'CareTeam', { body: careTeam });
  expect({ status: opened.status, issue: opened.body.issue }).toEqual({ status: 201, issue: undefined });
  careTeamId = opened.body.id;
  roomId = await waitFor(async () => {
    const { rows } = await hubStack.hub.db.query<{ room_id: string | null }>('SELECT room_id FROM case_rooms WHERE care_team_id = $1', [careTeamId]);
    return rows[0]?.room_id ?? undefined;
  }, 'the case room');
  // Everyone is in and reads the room before the meeting is booked.
  const isSummary = (body: unknown) => String(body).startsWith('📌 Case PB-2026-0077');
  await counsellor.waitForEvent('the pinned summary', (e) => e.getRoomId() === roomId && isSummary(e.getContent()['body']));
  await nurse.waitForEvent('the pinned summary', (e) => e.getRoomId() === roomId && isSummary(e.getContent()['body']));
  await gp.waitForEvent('the pinned summary', (e) => e.room_id === roomId && isSummary(e.content['body']));
}, TIMEOUT);

afterAll(async () => {
  counsellor?.stop();
  nurse?.stop();
  await gp?.stop();
  await admin?.close();
  await hubStack?.stop();
}, TIMEOUT);

describe('a case meeting booked by FHIR', () => {
  let appointmentId: string;
  let start: Date;
  let invitation: MatrixEvent;
  let nioInvitation: NioEvent;

  beforeAll(async () => {
    // 70 s ahead, so the one-minute reminder of this hub comes about 10 s after the booking.
    start = new Date(Date.now() + 70_000);
    const appointment: Appointment = {
      resourceType: 'Appointment',
      status: 'booked',
      description: DESCRIPTION,
      start: start.toISOString(),
      end: new Date(start.getTime() + 30 * 60_000).toISOString(),
      supportingInformation: [{ reference: `CareTeam/${careTeamId}` }],
      // The nurse is not listed: her answer adds her.
      participant: [
        { actor: { reference: role('counsellor') }, status: 'accepted' },
        { actor: { reference: role('gp') }, status: 'needs-action' },
      ],
    };
    const booked = await office.request('POST', 'Appointment', { body: appointment });
    expect({ status: booked.status, issue: booked.body.issue }).toEqual({ status: 201, issue: undefined });
    appointmentId = booked.body.id;
  }, TIMEOUT);

  const isInvitation = (content: Record<string, unknown>) => content['org.carehub.appointment'] === `Appointment/${appointmentId}` && String(content['body']).startsWith('📅 Case meeting:');

  test("the counsellor's js client and the GP's nio client read the invitation decrypted: title, time, link and how to answer", async () => {
    invitation = await counsellor.waitForEvent('the invitation', (e) => e.getRoomId() === roomId && isInvitation(e.getContent()));
    expect(invitation.isEncrypted()).toBe(true);
    const body = String(invitation.getContent()['body']);
    expect(body).toContain(DESCRIPTION);
    expect(body).toContain(`When: ${new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(start)}`);
    expect(body).toMatch(new RegExp(`Join: ${MEETING_BASE_URL}/carehub-[0-9a-f]{32}\\n`));
    expect(body).toContain('Reply yes or no');
    nioInvitation = await gp.waitForEvent('the invitation', (e) => e.room_id === roomId && isInvitation(e.content));
    expect(nioInvitation.encrypted).toBe(true);
    expect(nioInvitation.event_id).toBe(invitation.getId());
  });

  test("the homeserver's stored room state holds the meeting as a widget with its link, and nothing personal", async () => {
    const [widget] = await widgetsOf();
    const { rows } = await hubStack.hub.db.query<{ conference_id: string; event_id: string }>('SELECT conference_id, event_id FROM case_meetings WHERE appointment_id = $1', [appointmentId]);
    expect(rows).toEqual([{ conference_id: expect.stringMatching(/^[0-9a-f]{32}$/), event_id: invitation.getId() }]);
    const conferenceId = rows[0]!.conference_id;
    expect(widget).toMatchObject({ state_key: conferenceId, content: { type: 'jitsi', url: `${MEETING_BASE_URL}/carehub-${conferenceId}`, name: 'Case meeting', creatorUserId: botUserId } });
    expect(String(invitation.getContent()['body'])).toContain(`${MEETING_BASE_URL}/carehub-${conferenceId}`);
    const raw = JSON.stringify(await rawRoomState());
    for (const personal of [PERSON.given, PERSON.family, PERSON.birthDate, 'Discharge planning', start.toISOString(), start.toISOString().slice(11, 16)]) expect(raw).not.toContain(personal);
  });

  test('the GP replies "yes" from nio: his participation is accepted, and the bot confirms', async () => {
    const answer = await gp.say(roomId, 'Yes, I will join from the practice.', { inReplyTo: nioInvitation.event_id });
    const confirmation = await counsellor.waitForNoticeAbout(answer);
    expect(confirmation.getContent()['body']).toMatch(/^✅ Jonas Sander takes part in the case meeting/);
    const appointment = await waitFor(async () => {
      const current = await readAppointment(appointmentId);
      return statusOf(current, role('gp')) === 'accepted' ? current : undefined;
    }, "the GP's participation accepted");
    expect(statusOf(appointment, role('counsellor'))).toBe('accepted');
  });

  test('the nurse reacts ❌ in Element style: she is added as a participant who declined', async () => {
    const seen = await nurse.waitForEvent('the invitation', (e) => e.getId() === invitation.getId());
    await nurse.react(seen, '❌');
    const appointment = await waitFor(async () => {
      const current = await readAppointment(appointmentId);
      return statusOf(current, role('nurse')) === 'declined' ? current : undefined;
    }, "the nurse's participation declined");
    expect(appointment.participant).toHaveLength(3);
    const confirmation = await counsellor.waitForEvent('the confirmation of the reaction', (e) => e.getRoomId() === roomId && String(e.getContent()['body']).startsWith('❌ Lea Brandt does not take part'));
    expect(confirmation.getContent()['m.relates_to']).toEqual({ 'm.in_reply_to': { event_id: invitation.getId() } });
    // The answers were the hub's own writes: no new invitation or change went out for them.
    const { rows } = await hubStack.hub.db.query("SELECT 1 FROM outbox WHERE topic = 'case.meeting' AND payload ->> 'appointmentId' = $1", [appointmentId]);
    expect(rows).toHaveLength(1);
  });

  test('the room is reminded of the meeting before it starts, once, as a reply to the invitation', async () => {
    const reminder = await counsellor.waitForEvent('the reminder', (e) => e.getRoomId() === roomId && String(e.getContent()['body']).startsWith('⏰'), 90_000);
    expect(reminder.getTs()).toBeLessThan(start.getTime());
    expect(reminder.isEncrypted()).toBe(true);
    expect(String(reminder.getContent()['body'])).toContain(DESCRIPTION);
    expect(reminder.getContent()['m.relates_to']).toEqual({ 'm.in_reply_to': { event_id: invitation.getId() } });
    await gp.waitForEvent('the reminder', (e) => e.event_id === reminder.getId());
    await new Promise((r) => setTimeout(r, 3000));
    expect(counsellor.eventsIn(roomId).filter((e) => String(e.getContent()['body']).startsWith('⏰'))).toHaveLength(1);
  }, TIMEOUT);

  test('cancelling the Appointment removes the widget and tells the room', async () => {
    const current = await readAppointment(appointmentId);
    const cancelled = await office.request('PUT', `Appointment/${appointmentId}`, { body: { ...current, status: 'cancelled' } });
    expect(cancelled.status).toBe(200);
    const notice = await counsellor.waitForEvent('the cancellation', (e) => e.getRoomId() === roomId && String(e.getContent()['body']).startsWith('🚫 The case meeting'));
    expect(notice.getContent()['body']).toContain(DESCRIPTION);
    await waitFor(async () => ((await widgetsOf()).every((w) => Object.keys(w.content).length === 0) ? true : undefined), 'the widget removed');
  });
});
