import type { OperationOutcome, Task } from 'fhir/r4.js';
import type { RunningHub } from '@carehub/hub';
import type { TypedFhirClient } from '../ops/lib/typed-fhir-client.js';
import { gpPracticeBundle, idOf, referralBundle } from './support/fhir-fixtures.js';
import { startApiHub, type ApiHub } from './support/api-hub.js';

// The API alone (no bot, no workers): what an integrator's system sees of validation and storage.
let hub: RunningHub;
let api: ApiHub;
let fhir: TypedFhirClient;

beforeAll(async () => {
  api = await startApiHub();
  ({ hub, fhir } = api);
});

afterAll(async () => {
  await api.stop();
});

async function storedCounts(): Promise<{ resources: number; outbox: number }> {
  const { rows } = await hub.db.query<{ resources: string; outbox: string }>(
    // AuditEvents are left out: a refused request is audited too, but stores nothing of its own.
    "SELECT (SELECT count(*) FROM resources WHERE resource_type <> 'AuditEvent') AS resources, (SELECT count(*) FROM outbox) AS outbox",
  );
  return { resources: Number(rows[0]!.resources), outbox: Number(rows[0]!.outbox) };
}

async function post(path: string, body: string, contentType = 'application/fhir+json') {
  const response = await fetch(`${hub.baseUrl}/fhir/${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: response.status, contentType: response.headers.get('content-type'), body: (await response.json()) as OperationOutcome };
}

describe('an integrator posting malformed input gets an OperationOutcome and nothing is stored', () => {
  // Each case: what the integrator sends, the status it must get, the element path it must name.
  const cases = [
    { name: 'a body that is not JSON', type: 'ServiceRequest', body: '{"resourceType": "ServiceRequest", ', status: 400 },
    { name: 'a JSON array', type: 'ServiceRequest', body: '[]', status: 400 },
    { name: 'a resourceType other than the URL names', type: 'ServiceRequest', body: JSON.stringify({ resourceType: 'Patient' }), status: 400 },
    { name: 'an unknown resource type', type: 'Spaceship', body: JSON.stringify({ resourceType: 'Spaceship' }), status: 404 },
    {
      name: 'a ServiceRequest missing status, intent and subject',
      type: 'ServiceRequest',
      body: JSON.stringify({ resourceType: 'ServiceRequest' }),
      status: 400,
      path: 'ServiceRequest.intent',
    },
    {
      name: 'an element FHIR does not define',
      type: 'Patient',
      body: JSON.stringify({ resourceType: 'Patient', favouriteColour: 'blue' }),
      status: 400,
      path: 'Patient.favouriteColour',
    },
    { name: 'a wrong data type', type: 'Patient', body: JSON.stringify({ resourceType: 'Patient', birthDate: 1948 }), status: 400, path: 'Patient.birthDate' },
    { name: 'XML instead of JSON', type: 'Patient', body: '<Patient xmlns="http://hl7.org/fhir"/>', status: 415 },
  ];

  test.each(cases)('$name', async ({ type, body, status, path }: { type: string; body: string; status: number; path?: string }) => {
    const before = await storedCounts();
    const response = await post(type, body, body.startsWith('<') ? 'application/fhir+xml' : 'application/fhir+json');
    expect(response.status).toBe(status);
    expect(response.contentType).toMatch(/^application\/fhir\+json/);
    expect(response.body.resourceType).toBe('OperationOutcome');
    expect(response.body.issue[0]!.severity).toBe('error');
    if (path) expect(response.body.issue.flatMap((i) => i.expression ?? [])).toContain(path);
    expect(await storedCounts()).toEqual(before);
  });

  test.each([
    {
      name: 'a Matrix Endpoint whose address is not a Matrix URI',
      type: 'Endpoint',
      body: { resourceType: 'Endpoint', status: 'active', connectionType: { system: 'http://carehub.example.org/fhir/CodeSystem/endpoint-connection-type', code: 'matrix' }, payloadType: [{ text: 'x' }], address: 'https://gp.example.org' },
      path: 'Endpoint.address',
    },
    {
      name: 'an Organization claiming the CareHub profile without identifier',
      type: 'Organization',
      body: { resourceType: 'Organization', meta: { profile: ['http://carehub.example.org/fhir/StructureDefinition/carehub-organization'] }, name: 'Nameless' },
      path: 'Organization.identifier',
    },
  ])('$name is refused with 422 naming the element, and nothing is stored', async ({ type, body, path }) => {
    const before = await storedCounts();
    const response = await post(type, JSON.stringify(body));
    expect(response.status).toBe(422);
    expect(response.body.issue.flatMap((i) => i.expression ?? [])).toContain(path);
    expect(await storedCounts()).toEqual(before);
  });

  test('a transaction with one bad entry stores none of its entries', async () => {
    const before = await storedCounts();
    const bundle = gpPracticeBundle('@gp:carehub.test');
    (bundle.entry![1]!.resource as { birthDate?: unknown }).birthDate = 'yesterday';
    const response = await post('', JSON.stringify(bundle));
    expect(response.status).toBe(400);
    expect(response.body.issue[0]!.diagnostics).toMatch(/^Bundle.entry\[1\]/);
    expect(await storedCounts()).toEqual(before);
  });

  test('a referral to a recipient without a Matrix endpoint is refused with 422 and nothing is queued', async () => {
    const directory = await fhir.transaction(gpPracticeBundle('@gp:carehub.test'));
    const organizationWithoutMembers = await fhir.create({ resourceType: 'Organization', name: 'Practice without Matrix' });
    expect(idOf(directory, 'PractitionerRole')).toBeTruthy();
    const before = await storedCounts();
    const response = await post('', JSON.stringify(referralBundle(`Organization/${organizationWithoutMembers.id}`)));
    expect(response.status).toBe(422);
    expect(response.body.issue[0]!.expression).toEqual(['Bundle.entry[2].resource.owner']);
    expect(await storedCounts()).toEqual(before);
  });
});

describe('an integrator creates and reads resources with a stock FHIR client', () => {
  test('a transaction resolves urn:uuid references and queues exactly one delivery for the referral', async () => {
    const directory = await fhir.transaction(gpPracticeBundle('@gp:carehub.test'));
    const roleId = idOf(directory, 'PractitionerRole');
    const outboxBefore = (await storedCounts()).outbox;

    const response = await fhir.transaction(referralBundle(`PractitionerRole/${roleId}`));
    expect(response.type).toBe('transaction-response');
    expect(response.entry!.map((e) => e.response!.status)).toEqual(['201 Created', '201 Created', '201 Created']);
    const task = await fhir.read<Task>('Task', idOf(response, 'Task'));
    expect(task.focus!.reference).toBe(`ServiceRequest/${idOf(response, 'ServiceRequest')}`);
    expect(task.for!.reference).toBe(`Patient/${idOf(response, 'Patient')}`);
    expect(task.meta!.versionId).toBe('1');

    const { rows } = await hub.db.query('SELECT topic, payload FROM outbox ORDER BY id DESC LIMIT 1');
    expect((await storedCounts()).outbox).toBe(outboxBefore + 1);
    expect(rows).toEqual([{ topic: 'referral.deliver', payload: { taskId: task.id } }]);
  });

  test('create answers 201 with Location and ETag; read and vread return the stored version; unknown ids are 404', async () => {
    const response = await fetch(`${hub.baseUrl}/fhir/Practitioner`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Practitioner', id: 'client-chosen', name: [{ family: 'Holm' }] }),
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as { id: string };
    expect(created.id).not.toBe('client-chosen');
    expect(response.headers.get('location')).toBe(`${hub.baseUrl}/fhir/Practitioner/${created.id}/_history/1`);
    expect(response.headers.get('etag')).toBe('W/"1"');

    expect(await fhir.read('Practitioner', created.id)).toMatchObject({ name: [{ family: 'Holm' }] });
    expect(await fhir.vread('Practitioner', created.id, '1')).toMatchObject({ id: created.id });
    await expect(fhir.read('Practitioner', 'does-not-exist')).rejects.toMatchObject({ response: { status: 404 } });
  });

  test('$validate checks a resource without storing it', async () => {
    const before = await storedCounts();
    const validate = async (body: unknown) =>
      (await (await fetch(`${hub.baseUrl}/fhir/Patient/$validate`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) })).json()) as OperationOutcome;
    expect((await validate({ resourceType: 'Patient', birthDate: '1948-03-14' })).issue[0]!.severity).toBe('information');
    const invalid = await validate({ resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient', birthDate: 'soon' } }] });
    expect(invalid.issue[0]).toMatchObject({ severity: 'error', expression: ['Patient.birthDate'] });
    expect(await storedCounts()).toEqual(before);
  });

  test('$validate also works at the system level, with the mode and profile parameters', async () => {
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${hub.baseUrl}/fhir/${path}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
      return { status: response.status, outcome: (await response.json()) as OperationOutcome };
    };
    const before = await storedCounts();
    const valid = await post('$validate', { resourceType: 'Patient', birthDate: '1948-03-14' });
    expect(valid).toMatchObject({ status: 200, outcome: { issue: [{ severity: 'information', diagnostics: 'the Patient is valid' }] } });
    expect((await post('$validate', { resourceType: 'Patient', birthDate: 'soon' })).outcome.issue[0]).toMatchObject({ severity: 'error', expression: ['Patient.birthDate'] });
    // mode=update needs an id; the parameter may come in the Parameters or in the query.
    const update = await post('$validate', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient' } }, { name: 'mode', valueCode: 'update' }] });
    expect(update.outcome.issue[0]).toMatchObject({ severity: 'error', expression: ['Patient.id'] });
    expect((await post('Patient/$validate?mode=update', { resourceType: 'Patient', id: 'p1' })).outcome.issue[0]!.severity).toBe('information');
    expect((await post('$validate?mode=delete', { resourceType: 'Patient' })).status).toBe(400);
    // profile: a Task checked against CareHub's referral Task profile (requester and owner required).
    const profile = 'http://carehub.example.org/fhir/StructureDefinition/carehub-referral-task';
    const task = { resourceType: 'Task', status: 'requested', intent: 'proposal' };
    expect((await post('$validate', task)).outcome.issue[0]!.severity).toBe('information');
    const profiled = await post('$validate', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: task }, { name: 'profile', valueUri: profile }] });
    expect(profiled.status).toBe(200);
    expect(profiled.outcome.issue.some((i) => i.severity === 'error')).toBe(true);
    expect(await storedCounts()).toEqual(before);
  });

  test("operators scrape request counts from /metrics, on the operator's listener", async () => {
    await fhir.read('Practitioner', 'missing').catch(() => undefined);
    const text = await (await fetch(`${hub.operatorUrl}/metrics`)).text();
    expect(text).toMatch(/carehub_http_requests_total\{method="GET",status="404"\} [1-9]/);
  });

  test('the CapabilityStatement lists the interactions the API serves', async () => {
    const capabilities = await fhir.capabilityStatement();
    const task = capabilities.rest![0]!.resource!.find((r) => r.type === 'Task')!;
    expect(task.interaction!.map((i) => i.code)).toEqual(['create', 'read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'search-type']);
    expect(task.searchParam!.map((p) => p.name)).toEqual(expect.arrayContaining(['_id', 'status', 'owner', 'focus']));
    expect(capabilities.rest![0]!.resource!.map((r) => r.type)).toContain('DocumentReference');
  });
});
