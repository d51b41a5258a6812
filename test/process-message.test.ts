import type { Bundle, MessageHeader, OperationOutcome } from 'fhir/r4.js';
import pg from 'pg';
import { referralBundle, gpPracticeBundle, idOf } from './support/fhir-fixtures.js';
import { startApiHub, type ApiHub } from './support/api-hub.js';

// Integrators that speak FHIR messaging send a referral as a message Bundle to $process-message.
let hub: ApiHub;
let db: pg.Pool;

beforeAll(async () => {
  hub = await startApiHub();
  db = new pg.Pool({ connectionString: hub.databaseUrl, max: 2 });
});

afterAll(async () => {
  await db?.end();
  await hub?.stop();
});

const EVENT = { system: 'http://carehub.example.org/fhir/CodeSystem/message-event', code: 'referral-request' };

/** The referral of referralBundle as a message: MessageHeader first, the same resources after it. */
function referralMessage(owner: string, messageId: string): Bundle {
  const transaction = referralBundle(owner, 'Sent as a FHIR message');
  return {
    resourceType: 'Bundle',
    id: messageId,
    type: 'message',
    timestamp: new Date().toISOString(),
    entry: [
      {
        fullUrl: 'urn:uuid:5e5a0000-0000-4000-8000-000000000000',
        resource: { resourceType: 'MessageHeader', eventCoding: EVENT, source: { endpoint: 'https://clinic.example.org/fhir' }, focus: [{ reference: 'urn:uuid:7a1e0000-0000-4000-8000-000000000003' }] } as MessageHeader,
      },
      ...transaction.entry!.map(({ fullUrl, resource }) => ({ fullUrl, resource })),
    ],
  };
}

async function send(body: unknown): Promise<{ status: number; body: Bundle }> {
  const response = await fetch(`${hub.baseUrl}/fhir/$process-message`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Bundle };
}

const count = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]!.n);

test('a referral sent as a message is stored and routed; the same message again gets the same response and stores nothing more', async () => {
  const roleId = idOf(await hub.fhir.transaction(gpPracticeBundle('@gp-message:carehub.test')), 'PractitionerRole');
  const message = referralMessage(`PractitionerRole/${roleId}`, 'message-0001');

  const first = await send(message);
  expect(first.status).toBe(200);
  const header = first.body.entry![0]!.resource as MessageHeader;
  expect(header.response).toMatchObject({ identifier: 'message-0001', code: 'ok' });
  const task = header.focus!.find((f) => f.reference!.startsWith('Task/'))!;
  expect(await count(`SELECT count(*) AS n FROM resources WHERE resource_type = 'Task'`)).toBe(1);
  expect(await count(`SELECT count(*) AS n FROM outbox WHERE topic = 'referral.deliver'`)).toBe(1);

  const again = await send(message);
  expect(again.status).toBe(200);
  expect(again.body).toEqual(first.body);
  expect(await count(`SELECT count(*) AS n FROM resources WHERE resource_type = 'Task'`)).toBe(1);
  expect(await count(`SELECT count(*) AS n FROM outbox WHERE topic = 'referral.deliver'`)).toBe(1);
  expect((await hub.fhir.read('Task', task.reference!.slice(5))).resourceType).toBe('Task');
});

test('a message whose recipient has no Matrix endpoint is refused (422, fatal-error) and nothing is stored', async () => {
  const before = await count(`SELECT count(*) AS n FROM resources WHERE resource_type <> 'AuditEvent'`);
  const refused = await send(referralMessage('PractitionerRole/nobody-here', 'message-0002'));
  expect(refused.status).toBe(422);
  const header = refused.body.entry![0]!.resource as MessageHeader;
  expect(header.response).toMatchObject({ identifier: 'message-0002', code: 'fatal-error' });
  const outcome = refused.body.entry![1]!.resource as OperationOutcome;
  expect(outcome.issue[0]!.diagnostics).toContain('Task.owner');
  expect(await count(`SELECT count(*) AS n FROM resources WHERE resource_type <> 'AuditEvent'`)).toBe(before);
  expect(await count(`SELECT count(*) AS n FROM processed_messages WHERE message_id = 'message-0002'`)).toBe(0);
});

test('a Bundle that is not a message, or a message without its MessageHeader, is refused with 400', async () => {
  const notMessage = await send({ resourceType: 'Bundle', id: 'x', type: 'collection', entry: [] });
  expect(notMessage.status).toBe(400);
  expect((notMessage.body as unknown as OperationOutcome).resourceType).toBe('OperationOutcome');
  const noHeader = await send({ resourceType: 'Bundle', id: 'y', type: 'message', entry: [{ resource: { resourceType: 'Patient' } }] });
  expect(noHeader.status).toBe(400);
});
