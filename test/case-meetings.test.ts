import type { Appointment, CareTeam } from 'fhir/r4.js';
import type { MatrixEvent } from 'matrix-js-sdk';
import { CASE_ROLE } from '../hub/src/cases/case-roles.js';
import type { GpMatrixClient } from '../ops/lib/gp-matrix-client.js';
import type { NioGpClient, NioEvent } from '../ops/lib/nio-gp-client.js';
import type { AuthHub, Integrator } from './support/auth-hub.js';
import { startCaseNetwork, type CaseNetwork, type MemberPlan } from './support/case-network.js';
import { waitFor } from './support/wait-for.js';

// A discharge-planning meeting of a case, by FHIR and in the room: the counselling office's case
// system books an Appointment linked to the case; the room gets the meeting as a widget and an
// encrypted invitation; the GP (matrix-nio, libolm) answers yes by a reply, the home-care nurse
// (matrix-js-sdk) no by a ❌ reaction, and both answers land in Appointment.participant; the room
// is reminded a minute before the start. Key sharing is "all": nio has no cross-signing.

const TIMEOUT = 240_000;
const MEETING_BASE_URL = 'https://meet.carehub.test';
// The directory: the counselling office, the GP practice and the home-care service, one person each on Matrix.
const MEMBERS = {
  counsellor: { client: 'matrix-js', localpart: 'counsellor-lund', organization: 'Pflegestützpunkt Nord', person: 'Maren Lund' },
  gp: { client: 'nio', localpart: 'gp-sander', organization: 'Praxis Dr. Sander', person: 'Jonas Sander' },
  nurse: { client: 'matrix-js', localpart: 'nurse-brandt', organization: 'Ambulanter Pflegedienst Elbe', person: 'Lea Brandt' },
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
const DESCRIPTION = `Discharge planning for ${PERSON.given} ${PERSON.family}`;
const role = (key: keyof typeof MEMBERS) => network.members[key].role;
const organization = (key: keyof typeof MEMBERS) => network.members[key].organization;

const rawRoomState = () => network.roomState(roomId);

const widgetsOf = async () => (await rawRoomState()).filter((e) => e.type === 'im.vector.modular.widgets');

async function readAppointment(id: string): Promise<Appointment> {
  const answer = await office.request('GET', `Appointment/${id}`);
  expect(answer.status).toBe(200);
  return answer.body as Appointment;
}

const statusOf = (appointment: Appointment, reference: string) => appointment.participant.find((p) => p.actor?.reference === reference)?.status;

beforeAll(async () => {
  network = await startCaseNetwork({ name: 'meeting', cases: { timeZone: 'UTC', clockSeconds: 1, meetingBaseUrl: MEETING_BASE_URL, meetingReminderMinutes: 1 }, members: MEMBERS, office: 'counsellor' });
  ({ hub: hubStack, office, botUserId } = network);
  counsellor = network.members.counsellor.client;
  nurse = network.members.nurse.client;
  gp = network.members.gp.client;

  // The case: a person, her Consent for the practice and the home-care service, the CareTeam.
  const subject = await network.createPatient(PERSON);
  expect((await office.request('POST', 'Consent', { body: network.consent(subject, [organization('gp'), organization('nurse')]) })).status).toBe(201);
  const careTeam: CareTeam = {
    resourceType: 'CareTeam',
    status: 'active',
    identifier: [{ value: 'PB-2026-0077' }],
    category: [{ text: 'Care counselling' }],
    subject: { reference: subject },
    managingOrganization: [{ reference: organization('counsellor') }],
    participant: [{ role: [{ coding: [CASE_ROLE.moderator] }], member: { reference: role('counsellor') } }, { member: { reference: role('gp') } }, { member: { reference: role('nurse') } }],
  };
  const opened = await office.request('POST', 'CareTeam', { body: careTeam });
  expect({ status: opened.status, issue: opened.body.issue }).toEqual({ status: 201, issue: undefined });
  careTeamId = opened.body.id;
  roomId = await network.caseRoom(careTeamId);
  // Everyone is in and reads the room before the meeting is booked.
  const isSummary = (body: unknown) => String(body).startsWith('📌 Case PB-2026-0077');
  await counsellor.waitForEvent('the pinned summary', (e) => e.getRoomId() === roomId && isSummary(e.getContent()['body']));
  await nurse.waitForEvent('the pinned summary', (e) => e.getRoomId() === roomId && isSummary(e.getContent()['body']));
  await gp.waitForEvent('the pinned summary', (e) => e.room_id === roomId && isSummary(e.content['body']));
}, TIMEOUT);

afterAll(() => network?.stop(), TIMEOUT);

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
