import type { CareTeam, ServiceRequest, Task } from 'fhir/r4.js';
import { CASE_ROLE } from '../hub/src/cases/case-roles.js';
import type { GpMatrixClient } from '../ops/lib/gp-matrix-client.js';
import { startCaseNetwork, type CaseNetwork, type MemberPlan } from './support/case-network.js';

// A referral typed in the case room itself: the home-care nurse (matrix-js-sdk) refers to the
// case's GP (matrix-nio with libolm) with "!refer @gp: …". It becomes a ServiceRequest + Task
// from her own PractitionerRole, reaches the GP like an integrator's referral, and its status
// comes back into the case room as a reply to her message.

const TIMEOUT = 240_000;
const MEMBERS = {
  counsellor: { client: 'matrix-js', localpart: 'counsellor-refer', organization: 'Pflegestützpunkt Süd', person: 'Maren Voss' },
  nurse: { client: 'matrix-js', localpart: 'nurse-refer', organization: 'Pflegedienst Sonnenschein', person: 'Lena Brandt' },
  gp: { client: 'nio', localpart: 'gp-refer', organization: 'Praxis Dr. Berg', person: 'Jonas Berg' },
} as const satisfies Record<string, MemberPlan>;

let network: CaseNetwork<typeof MEMBERS>;
let nurse: GpMatrixClient;
let roomId: string;
let careTeamId: string;

/** The nurse writes in the case room; resolves with the bot's answer to it. */
async function ask(text: string): Promise<{ eventId: string; answer: string }> {
  const eventId = await nurse.say(roomId, text);
  return { eventId, answer: String((await nurse.waitForNoticeAbout(eventId)).getContent()['body']) };
}

beforeAll(async () => {
  network = await startCaseNetwork({ name: 'refer', cases: { timeZone: 'UTC', clockSeconds: 1 }, members: MEMBERS, office: 'counsellor' });
  nurse = network.members.nurse.client;
  const subject = await network.createPatient({ given: 'Ingrid', family: 'Halvorsen', birthDate: '1941-05-02' });
  expect((await network.office.request('POST', 'Consent', { body: network.consent(subject, [network.members.gp.organization, network.members.nurse.organization]) })).status).toBe(201);
  const opened = await network.office.request('POST', 'CareTeam', {
    body: {
      resourceType: 'CareTeam',
      status: 'active',
      identifier: [{ value: 'PB-2026-0202' }],
      category: [{ text: 'Care counselling' }],
      subject: { reference: subject },
      managingOrganization: [{ reference: network.members.counsellor.organization }],
      participant: [
        { role: [{ coding: [CASE_ROLE.moderator] }], member: { reference: network.members.counsellor.role } },
        { member: { reference: network.members.nurse.role } },
        { member: { reference: network.members.gp.role } },
      ],
    } satisfies CareTeam,
  });
  expect({ status: opened.status, issue: opened.body.issue }).toEqual({ status: 201, issue: undefined });
  careTeamId = opened.body.id;
  roomId = await network.caseRoom(careTeamId);
  await nurse.waitForEvent('the pinned summary', (e) => e.getRoomId() === roomId && String(e.getContent()['body']).startsWith('📌 Case PB-2026-0202'));
  await network.members.gp.client.waitForJoin(roomId);
}, TIMEOUT);

afterAll(() => network?.stop(), TIMEOUT);

test('a member who is no moderator refers to the GP from the case room; the GP accepts; the status comes back to her there', async () => {
  expect((await ask('!refer')).answer).toMatch(/^⚠️ Say whom you refer to/);
  expect((await ask(`!refer ${network.members.gp.userId}`)).answer).toMatch(/^⚠️ Say what you ask for after the name/);

  const { eventId, answer } = await ask(`!refer ${network.members.gp.userId}: wound check after the home visit, this week please`);
  expect(answer).toBe('📨 Referral sent to Jonas Berg. I will tell you here when its status changes.');

  // It is a referral like an integrator's: from her role, to his, about the case's person.
  const { rows } = await network.hub.hub.db.query<{ content: Task }>(`SELECT content FROM resources WHERE resource_type = 'Task' AND content @> $1::jsonb`, [
    JSON.stringify({ requester: { reference: network.members.nurse.role } }),
  ]);
  expect(rows).toHaveLength(1);
  const task = rows[0]!.content;
  expect({ owner: task.owner?.reference, description: task.description }).toEqual({ owner: network.members.gp.role, description: 'wound check after the home visit, this week please' });
  const request = (await network.hub.hub.db.query<{ content: ServiceRequest }>(`SELECT content FROM resources WHERE resource_type = 'ServiceRequest' AND id = $1`, [task.focus!.reference!.split('/')[1]])).rows[0]!.content;
  expect(request.supportingInfo?.[0]?.reference).toBe(`CareTeam/${careTeamId}`);

  const gp = network.members.gp.client;
  const referral = await gp.waitForEvent('the referral', (e) => (e.content['org.carehub.referral'] as { task?: string } | undefined)?.task === `Task/${task.id}` && !e.content['m.relates_to']);
  expect(referral.content['body']).toContain('Ingrid Halvorsen');
  expect(referral.content['body']).toContain('wound check after the home visit');
  await gp.react(referral, '✅');
  const status = await nurse.waitForEvent('the referral’s status', (e) => e.getRoomId() === roomId && String(e.getContent()['body']).includes('is now accepted'));
  expect(status.getContent()['m.relates_to']?.['m.in_reply_to']?.event_id).toBe(eventId);
}, TIMEOUT);
