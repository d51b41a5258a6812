import type { Bundle, FhirResource } from 'fhir/r4.js';
import pg from 'pg';
import { BREAK_GLASS_HEADER } from '../hub/src/access/request-access.js';
import { entry, idOf, matrixEndpoint, transaction } from './support/fhir-fixtures.js';
import { startAuthHub, type AuthHub, type Integrator } from './support/auth-hub.js';

// The access policy (docs/access-policy.md), played by the people it is for: clinic A refers a
// patient to a GP practice; integrator B, of another organisation, tries every path to A's
// data; a read-only client, a client with PractitionerRole scopes only, a non-auditor, the
// county's operator and its auditor each get what the policy gives them and nothing more.

let stack: AuthHub;
let a: Integrator; // clinic A, the referral's requester
let b: Integrator; // another organisation
let gp: Integrator; // the GP practice the referral is for (the Task's owner's organisation)
let readOnly: Integrator; // clinic A's read-only reporting client
let roleReader: Integrator; // clinic A's client with PractitionerRole read scopes only
let operator: Integrator;
let auditor: Integrator;
let db: pg.Client;
const ids: Record<string, string> = {};

const entriesOf = (bundle: Bundle | undefined) => (bundle?.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
/** Every Type/id of clinic A's referral, for "nothing of A's reaches B". */
const aResources = () => ['Patient', 'ServiceRequest', 'Task', 'DocumentReference', 'Communication', 'Binary'].map((t) => `${t}/${ids[t]}`);

beforeAll(async () => {
  stack = await startAuthHub();
  operator = await stack.integrator('county-operator', 'Organization/county', { roles: ['operator'] });
  auditor = await stack.integrator('county-auditor', 'Organization/county-audit', { scopes: ['system/*.rs'], roles: ['auditor'] });
  // The operator loads the directory: clinic A, organisation B, the GP practice with its GP.
  const directory = await operator.request('POST', '', {
    body: transaction(
      entry('urn:uuid:a0000000-0000-4000-8000-000000000001', { resourceType: 'Organization', name: 'Clinic A', active: true }),
      entry('urn:uuid:a0000000-0000-4000-8000-000000000002', { resourceType: 'Organization', name: 'Organisation B', active: true }),
      entry('urn:uuid:a0000000-0000-4000-8000-000000000003', { resourceType: 'Organization', name: 'GP practice', active: true }),
      entry('urn:uuid:a0000000-0000-4000-8000-000000000004', matrixEndpoint('@gp:carehub.test', 'urn:uuid:a0000000-0000-4000-8000-000000000003')),
      entry('urn:uuid:a0000000-0000-4000-8000-000000000005', {
        resourceType: 'PractitionerRole',
        active: true,
        organization: { reference: 'urn:uuid:a0000000-0000-4000-8000-000000000003' },
        endpoint: [{ reference: 'urn:uuid:a0000000-0000-4000-8000-000000000004' }],
      }),
    ),
  });
  expect(directory.status).toBe(200);
  const [clinicA, orgB, practice] = (directory.body as Bundle).entry!.slice(0, 3).map((e) => `Organization/${e.resource!.id}`) as [string, string, string];
  Object.assign(ids, { clinicA, orgB, practice, gpRole: `PractitionerRole/${idOf(directory.body, 'PractitionerRole')}`, gpEndpoint: `Endpoint/${idOf(directory.body, 'Endpoint')}` });
  a = await stack.integrator('clinic-a', clinicA);
  b = await stack.integrator('org-b', orgB);
  gp = await stack.integrator('gp-practice', practice);
  readOnly = await stack.integrator('clinic-a-reports', clinicA, { scopes: ['system/*.rs'] });
  roleReader = await stack.integrator('clinic-a-roles', clinicA, { scopes: ['system/PractitionerRole.rs'] });

  // Clinic A refers a patient to the GP, with a document and a message about the referral.
  const referral = await a.request('POST', '', {
    body: transaction(
      entry('urn:uuid:b0000000-0000-4000-8000-000000000001', { resourceType: 'Patient', identifier: [{ system: 'urn:cpr', value: '1403481234' }], name: [{ family: 'Nielsen', given: ['Ole'] }], birthDate: '1948-03-14' }),
      entry('urn:uuid:b0000000-0000-4000-8000-000000000002', {
        resourceType: 'ServiceRequest',
        status: 'active',
        intent: 'order',
        code: { text: 'Home-care assessment' },
        subject: { reference: 'urn:uuid:b0000000-0000-4000-8000-000000000001' },
        requester: { reference: clinicA },
      }),
      entry('urn:uuid:b0000000-0000-4000-8000-000000000003', {
        resourceType: 'Task',
        status: 'requested',
        intent: 'order',
        focus: { reference: 'urn:uuid:b0000000-0000-4000-8000-000000000002' },
        for: { reference: 'urn:uuid:b0000000-0000-4000-8000-000000000001' },
        requester: { reference: clinicA },
        owner: { reference: ids['gpRole']! },
      }),
      entry('urn:uuid:b0000000-0000-4000-8000-000000000004', {
        resourceType: 'DocumentReference',
        status: 'current',
        subject: { reference: 'urn:uuid:b0000000-0000-4000-8000-000000000001' },
        context: { related: [{ reference: 'urn:uuid:b0000000-0000-4000-8000-000000000003' }] },
        content: [{ attachment: { contentType: 'text/plain', data: Buffer.from('Discharge letter for Ole Nielsen').toString('base64') } }],
      }),
      entry('urn:uuid:b0000000-0000-4000-8000-000000000005', {
        resourceType: 'Communication',
        status: 'completed',
        partOf: [{ reference: 'urn:uuid:b0000000-0000-4000-8000-000000000003' }],
        payload: [{ contentString: 'Ole lives alone; please call before visiting.' }],
      }),
    ),
  });
  expect(referral.status).toBe(200);
  for (const type of ['Patient', 'ServiceRequest', 'Task', 'DocumentReference', 'Communication']) ids[type] = idOf(referral.body, type);
  const document = (await a.request('GET', `DocumentReference/${ids['DocumentReference']}`)).body;
  ids['Binary'] = (document.content[0].attachment.url as string).replace(/^.*Binary\//, '');

  db = new pg.Client({ connectionString: (stack.hub.db as unknown as { options: { connectionString: string } }).options.connectionString });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await stack?.stop();
});

describe('patient data: an organisation reads what it is a party to, nothing else', () => {
  const types = ['Patient', 'ServiceRequest', 'Task', 'DocumentReference', 'Communication'];
  test.each(types)('%s: the requester (A), the owner’s organisation (GP) and A’s read-only client read it; B gets 404', async (type) => {
    for (const party of [a, gp, readOnly]) expect((await party.request('GET', `${type}/${ids[type]}`)).status).toBe(200);
    const refused = await b.request('GET', `${type}/${ids[type]}`);
    expect(refused.status).toBe(404);
    expect(refused.body.resourceType).toBe('OperationOutcome');
  });

  test.each(types)('%s: vread and _history answer B 404, the parties 200', async (type) => {
    expect((await b.request('GET', `${type}/${ids[type]}/_history/1`)).status).toBe(404);
    expect((await b.request('GET', `${type}/${ids[type]}/_history`)).status).toBe(404);
    expect((await gp.request('GET', `${type}/${ids[type]}/_history/1`)).status).toBe(200);
    expect((await gp.request('GET', `${type}/${ids[type]}/_history`)).status).toBe(200);
  });

  test.each(types)('%s: type-level _history shows B none of A’s versions', async (type) => {
    expect(entriesOf((await b.request('GET', `${type}/_history`)).body)).not.toContain(`${type}/${ids[type]}`);
    expect(entriesOf((await a.request('GET', `${type}/_history`)).body)).toContain(`${type}/${ids[type]}`);
  });

  test.each(types)('%s: search by _id finds it for the parties, not for B', async (type) => {
    expect(entriesOf((await b.request('GET', `${type}?_id=${ids[type]}`)).body)).toEqual([]);
    expect(entriesOf((await gp.request('GET', `${type}?_id=${ids[type]}`)).body)).toEqual([`${type}/${ids[type]}`]);
    expect((await b.request('GET', `${type}?_id=${ids[type]}&_summary=count`)).body.total).toBe(0);
  });

  test('Binary content: the parties download it, B gets 404 for the bytes and for the JSON', async () => {
    for (const party of [a, gp]) {
      const read = await party.request('GET', `Binary/${ids['Binary']}`);
      expect(read.status).toBe(200);
      expect(read.body).toBe('Discharge letter for Ole Nielsen');
    }
    expect((await b.request('GET', `Binary/${ids['Binary']}`)).status).toBe(404);
    expect((await b.request('GET', `Binary/${ids['Binary']}`, { headers: { accept: 'application/fhir+json' } })).status).toBe(404);
  });

  test('search parameters, chains and includes find none of A’s data for B', async () => {
    const searches = [
      `Task?owner=${ids['gpRole']}`,
      `Task?patient.name=Nielsen`,
      `ServiceRequest?subject:Patient.name=Nielsen`,
      `Patient?name=Nielsen`,
      `Patient?identifier=urn:cpr|1403481234`,
      `DocumentReference?related=Task/${ids['Task']}`,
      `Communication?part-of=Task/${ids['Task']}`,
      `${ids['gpRole']!.replace('/', '?_id=')}&_revinclude=Task:owner`,
      `${ids['clinicA']!.replace('/', '?_id=')}&_revinclude=Task:requester&_revinclude=ServiceRequest:requester`,
    ];
    for (const search of searches) {
      const found = (await b.request('GET', search)).body as Bundle;
      for (const resource of aResources()) expect(entriesOf(found)).not.toContain(resource);
    }
    // The parties find the same through the same searches.
    expect(entriesOf((await gp.request('GET', `Task?owner=${ids['gpRole']}`)).body)).toContain(`Task/${ids['Task']}`);
    expect(entriesOf((await gp.request('GET', `Task?patient.name=Nielsen`)).body)).toContain(`Task/${ids['Task']}`);
    expect(entriesOf((await a.request('GET', `${ids['gpRole']!.replace('/', '?_id=')}&_revinclude=Task:owner`)).body)).toContain(`Task/${ids['Task']}`);
  });

  test('_include from a party’s own search brings only what the caller may read', async () => {
    // B writes its own Task to the same GP; including its owner is fine, A's Task stays out.
    const own = await b.request('POST', 'Task', { body: { resourceType: 'Task', status: 'draft', intent: 'order', requester: { reference: ids['orgB'] }, owner: { reference: ids['gpRole'] } } });
    expect(own.status).toBe(201);
    const found = (await b.request('GET', `Task?owner=${ids['gpRole']}&_include=Task:owner&_revinclude=Communication:part-of`)).body as Bundle;
    expect(entriesOf(found)).toEqual(expect.arrayContaining([`Task/${own.body.id}`, ids['gpRole']]));
    for (const resource of aResources()) expect(entriesOf(found)).not.toContain(resource);
  });

  test('batch and transaction GETs answer B 404', async () => {
    const batch = await b.request('POST', '', {
      body: { resourceType: 'Bundle', type: 'batch', entry: aResources().map((url) => ({ request: { method: 'GET', url } })) },
    });
    expect(batch.status).toBe(200);
    expect((batch.body as Bundle).entry!.map((e) => e.response!.status)).toEqual(aResources().map(() => '404'));
    const transactionGet = await b.request('POST', '', { body: { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'GET', url: `Patient/${ids['Patient']}` } }] } });
    expect(transactionGet.status).toBe(404);
    const partyBatch = await gp.request('POST', '', { body: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Patient/${ids['Patient']}` } }] } });
    expect(partyBatch.body.entry[0].response.status).toBe('200');
  });

  test('If-None-Exist never answers with another organisation’s resource', async () => {
    const created = await b.request('POST', 'Patient', { body: { resourceType: 'Patient', identifier: [{ system: 'urn:cpr', value: '1403481234' }] }, headers: { 'if-none-exist': 'identifier=urn:cpr|1403481234' } });
    expect(created.status).toBe(201);
    expect(created.body.id).not.toBe(ids['Patient']);
    expect(created.body.name).toBeUndefined();
    // A's own condition still finds A's patient.
    const again = await a.request('POST', 'Patient', { body: { resourceType: 'Patient', identifier: [{ system: 'urn:cpr', value: '1403481234' }] }, headers: { 'if-none-exist': 'identifier=urn:cpr|1403481234' } });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(ids['Patient']);
  });

  test('B can neither change nor delete A’s data, and is not told it exists', async () => {
    expect((await b.request('PUT', `Patient/${ids['Patient']}`, { body: { resourceType: 'Patient', id: ids['Patient'], name: [{ family: 'Changed' }] } })).status).toBe(404);
    expect((await b.request('PATCH', `Patient/${ids['Patient']}`, { body: [{ op: 'replace', path: '/birthDate', value: '1950-01-01' }], contentType: 'application/json-patch+json' })).status).toBe(404);
    expect((await b.request('DELETE', `Task/${ids['Task']}`)).status).toBe(404);
    expect((await a.request('GET', `Patient/${ids['Patient']}`)).body.name[0].family).toBe('Nielsen');
  });

  test("a PUT onto the id of A's deleted resource does not take it over, and DELETE tells B nothing", async () => {
    const created = await a.request('POST', 'Patient', { body: { resourceType: 'Patient', name: [{ family: 'Deleted' }] } });
    expect((await a.request('DELETE', `Patient/${created.body.id}`)).status).toBe(200);
    expect((await b.request('PUT', `Patient/${created.body.id}`, { body: { resourceType: 'Patient', id: created.body.id } })).status).toBe(404);
    expect((await b.request('GET', `Patient/${created.body.id}/_history`)).status).toBe(404);
    // Deleting A's resource and deleting nothing look the same to B.
    expect((await b.request('DELETE', `Patient/${ids['Patient']}`)).status).toBe(404);
    expect((await b.request('DELETE', 'Patient/no-such-patient')).status).toBe(404);
  });

  test('the read-only client reads but cannot write', async () => {
    expect((await readOnly.request('POST', 'Patient', { body: { resourceType: 'Patient' } })).status).toBe(403);
  });
});

describe('references on write: a write points only at what its writer may read', () => {
  test('B’s Task whose focus is A’s ServiceRequest is refused, naming the element', async () => {
    const refused = await b.request('POST', 'Task', {
      body: { resourceType: 'Task', status: 'requested', intent: 'order', focus: { reference: `ServiceRequest/${ids['ServiceRequest']}` }, requester: { reference: ids['orgB'] }, owner: { reference: ids['gpRole'] } },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.issue[0].expression).toEqual(['Task.focus']);
    expect(refused.body.issue[0].diagnostics).toMatch(/not shared with/);
  });

  test('B’s DocumentReference and Communication about A’s Task are refused', async () => {
    const document = await b.request('POST', 'DocumentReference', {
      body: { resourceType: 'DocumentReference', status: 'current', context: { related: [{ reference: `Task/${ids['Task']}` }] }, content: [{ attachment: { contentType: 'text/plain', data: Buffer.from('x').toString('base64') } }] },
    });
    expect(document.status).toBe(403);
    expect(document.body.issue[0].expression).toEqual(['DocumentReference.context.related[0]']);
    const message = await b.request('POST', 'Communication', { body: { resourceType: 'Communication', status: 'completed', partOf: [{ reference: `Task/${ids['Task']}` }] } });
    expect(message.status).toBe(403);
  });

  test('B’s DocumentReference naming A’s Binary as its content is refused', async () => {
    const refused = await b.request('POST', 'DocumentReference', { body: { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'text/plain', url: `Binary/${ids['Binary']}` } }] } });
    expect(refused.status).toBe(403);
    expect(refused.body.issue[0].expression).toEqual(['DocumentReference.content[0].attachment.url']);
  });

  test('a Task’s requester is the writer’s own organisation or one of its roles', async () => {
    const asA = await b.request('POST', 'Task', { body: { resourceType: 'Task', status: 'requested', intent: 'order', requester: { reference: ids['clinicA'] }, owner: { reference: ids['gpRole'] } } });
    expect(asA.status).toBe(403);
    expect(asA.body.issue[0].expression).toEqual(['Task.requester']);
    const asGpRole = await b.request('POST', 'Task', { body: { resourceType: 'Task', status: 'draft', intent: 'order', requester: { reference: ids['gpRole'] } } });
    expect(asGpRole.status).toBe(403);
  });

  test("a referral names its requester, and B's ServiceRequest cannot name A as its requester", async () => {
    const anonymous = await b.request('POST', 'Task', { body: { resourceType: 'Task', status: 'draft', intent: 'order', owner: { reference: ids['gpRole'] } } });
    expect(anonymous.status).toBe(403);
    expect(anonymous.body.issue[0].expression).toEqual(['Task.requester']);
    const patient = await b.request('POST', 'Patient', { body: { resourceType: 'Patient' } });
    const request = await b.request('POST', 'ServiceRequest', { body: { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: `Patient/${patient.body.id}` }, requester: { reference: ids['clinicA'] } } });
    expect(request.status).toBe(403);
    expect(request.body.issue[0].expression).toEqual(['ServiceRequest.requester']);
  });

  test('the same rules hold inside a transaction, where new entries may point at each other', async () => {
    const refused = await b.request('POST', '', {
      body: transaction(entry('urn:uuid:c0000000-0000-4000-8000-000000000001', { resourceType: 'Communication', status: 'completed', partOf: [{ reference: `Task/${ids['Task']}` }] })),
    });
    expect(refused.status).toBe(403);
    expect(refused.body.issue[0].diagnostics).toMatch(/^Bundle\.entry\[0\]/);
    const own = await b.request('POST', '', {
      body: transaction(
        entry('urn:uuid:c0000000-0000-4000-8000-000000000002', { resourceType: 'Patient', name: [{ family: 'Own' }] }),
        entry('urn:uuid:c0000000-0000-4000-8000-000000000003', { resourceType: 'Communication', status: 'completed', subject: { reference: 'urn:uuid:c0000000-0000-4000-8000-000000000002' } }),
      ),
    });
    expect(own.status).toBe(200);
  });

  test('an unresolved urn:uuid reference in a transaction is refused', async () => {
    const refused = await a.request('POST', '', {
      body: transaction(entry('urn:uuid:c0000000-0000-4000-8000-000000000004', { resourceType: 'Communication', status: 'completed', subject: { reference: 'urn:uuid:c0000000-0000-4000-8000-00000000dead' } })),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.issue[0].expression[0]).toMatch(/subject\.reference$/);
  });
});

describe('directory: every member reads it, only its organisation writes it', () => {
  test('B reads the GP practice’s entries', async () => {
    for (const reference of [ids['practice'], ids['gpRole'], ids['gpEndpoint']]) expect((await b.request('GET', reference!)).status).toBe(200);
  });

  test('directory poisoning: B’s PractitionerRole naming the GP practice is refused, and B cannot attach its Endpoint to the GP’s role', async () => {
    const endpoint = await b.request('POST', 'Endpoint', { body: matrixEndpoint('@intruder:carehub.test') });
    expect(endpoint.status).toBe(201);
    const role = await b.request('POST', 'PractitionerRole', { body: { resourceType: 'PractitionerRole', active: true, organization: { reference: ids['practice'] }, endpoint: [{ reference: `Endpoint/${endpoint.body.id}` }] } });
    expect(role.status).toBe(403);
    expect(role.body.issue[0].expression).toEqual(['PractitionerRole.organization']);
    const current = (await b.request('GET', ids['gpRole']!)).body;
    const takeover = await b.request('PUT', ids['gpRole']!, { body: { ...current, endpoint: [...current.endpoint, { reference: `Endpoint/${endpoint.body.id}` }] } });
    expect(takeover.status).toBe(403);
    expect((await b.request('GET', ids['gpRole']!)).body.endpoint).toEqual(current.endpoint);
  });

  test('an Endpoint is attached only to its own organisation’s roles, and managed only by it', async () => {
    const ownRoleWithGpEndpoint = await b.request('POST', 'PractitionerRole', { body: { resourceType: 'PractitionerRole', organization: { reference: ids['orgB'] }, endpoint: [{ reference: ids['gpEndpoint'] }] } });
    expect(ownRoleWithGpEndpoint.status).toBe(403);
    expect(ownRoleWithGpEndpoint.body.issue[0].expression).toEqual(['PractitionerRole.endpoint[0]']);
    const managedForGp = await b.request('POST', 'Endpoint', { body: matrixEndpoint('@intruder:carehub.test', ids['practice']) });
    expect(managedForGp.status).toBe(403);
    const ownEndpoint = await b.request('POST', 'Endpoint', { body: matrixEndpoint('@b-staff:carehub.test', ids['orgB']) });
    const ownRole = await b.request('POST', 'PractitionerRole', { body: { resourceType: 'PractitionerRole', organization: { reference: ids['orgB'] }, endpoint: [{ reference: `Endpoint/${ownEndpoint.body.id}` }] } });
    expect(ownRole.status).toBe(201);
  });

  test('HealthcareService and Organization: B writes only its own', async () => {
    expect((await b.request('POST', 'HealthcareService', { body: { resourceType: 'HealthcareService', providedBy: { reference: ids['practice'] } } })).status).toBe(403);
    expect((await b.request('POST', 'HealthcareService', { body: { resourceType: 'HealthcareService', providedBy: { reference: ids['orgB'] } } })).status).toBe(201);
    expect((await b.request('POST', 'Organization', { body: { resourceType: 'Organization', name: 'Fake GP practice' } })).status).toBe(403);
    expect((await b.request('POST', 'Organization', { body: { resourceType: 'Organization', name: 'B, home-care team', partOf: { reference: ids['orgB'] } } })).status).toBe(201);
    const practice = (await b.request('GET', ids['practice']!)).body;
    expect((await b.request('PUT', ids['practice']!, { body: { ...practice, name: 'Taken over' } })).status).toBe(403);
  });

  test("B's role cannot link the GP practice's practitioner or service to B's Endpoints", async () => {
    const practitioner = await gp.request('POST', 'Practitioner', { body: { resourceType: 'Practitioner', name: [{ family: 'Berg' }] } });
    const service = await gp.request('POST', 'HealthcareService', { body: { resourceType: 'HealthcareService', providedBy: { reference: ids['practice'] } } });
    expect([practitioner.status, service.status]).toEqual([201, 201]);
    const claimPerson = await b.request('POST', 'PractitionerRole', { body: { resourceType: 'PractitionerRole', organization: { reference: ids['orgB'] }, practitioner: { reference: `Practitioner/${practitioner.body.id}` } } });
    expect(claimPerson.status).toBe(403);
    expect(claimPerson.body.issue[0].expression).toEqual(['PractitionerRole.practitioner']);
    const claimService = await b.request('POST', 'PractitionerRole', { body: { resourceType: 'PractitionerRole', organization: { reference: ids['orgB'] }, healthcareService: [{ reference: `HealthcareService/${service.body.id}` }] } });
    expect(claimService.status).toBe(403);
    expect(claimService.body.issue[0].expression).toEqual(['PractitionerRole.healthcareService[0]']);
    // The practice links its own.
    const own = await gp.request('POST', 'PractitionerRole', { body: { resourceType: 'PractitionerRole', organization: { reference: ids['practice'] }, practitioner: { reference: `Practitioner/${practitioner.body.id}` }, healthcareService: [{ reference: `HealthcareService/${service.body.id}` }] } });
    expect(own.status).toBe(201);
  });

  test("B cannot claim the GP's Matrix account with an Endpoint of its own", async () => {
    const hijack = await b.request('POST', 'Endpoint', { body: matrixEndpoint('@gp:carehub.test', ids['orgB']) });
    expect(hijack.status).toBe(403);
    expect(hijack.body.issue[0].expression).toEqual(['Endpoint.address']);
  });

  test('the operator writes the directory for anyone', async () => {
    const role = await operator.request('POST', 'PractitionerRole', { body: { resourceType: 'PractitionerRole', organization: { reference: ids['practice'] }, endpoint: [{ reference: ids['gpEndpoint'] }] } });
    expect(role.status).toBe(201);
  });
});

describe('scopes, the audit trail and the operator', () => {
  test('a client with PractitionerRole scopes only gets no Tasks through _revinclude', async () => {
    const found = (await roleReader.request('GET', `${ids['gpRole']!.replace('/', '?_id=')}&_revinclude=Task:owner`)).body as Bundle;
    expect(entriesOf(found)).toEqual([ids['gpRole']]);
    expect((await roleReader.request('GET', `Task/${ids['Task']}`)).status).toBe(403);
  });

  test('a non-auditor gets no AuditEvents through any path', async () => {
    expect((await a.request('GET', 'AuditEvent')).status).toBe(403);
    const revincluded = (await a.request('GET', `Patient?_id=${ids['Patient']}&_revinclude=AuditEvent:entity`)).body as Bundle;
    expect(revincluded.entry!.map((e) => e.resource!.resourceType)).toEqual(['Patient']);
    expect((await a.request('GET', 'AuditEvent/_history')).status).toBe(403);
    const batch = await a.request('POST', '', { body: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'AuditEvent?_count=1' } }] } });
    expect(batch.status).toBe(403);
  });

  test('the auditor reads the audit trail, but no patient data', async () => {
    const trail = (await auditor.request('GET', `AuditEvent?entity=Patient/${ids['Patient']}`)).body as Bundle;
    expect(trail.entry!.length).toBeGreaterThan(0);
    const revincluded = (await auditor.request('GET', `Organization?_id=${ids['clinicA']!.slice('Organization/'.length)}&_revinclude=AuditEvent:entity`)).body as Bundle;
    expect(revincluded.entry!.length).toBeGreaterThan(0);
    expect((await auditor.request('GET', `Patient/${ids['Patient']}`)).status).toBe(404);
  });

  test('the operator reads no patient data, except by audited break-glass access', async () => {
    expect((await operator.request('GET', `Patient/${ids['Patient']}`)).status).toBe(404);
    expect(entriesOf((await operator.request('GET', `Task?_id=${ids['Task']}`)).body)).toEqual([]);
    const reason = 'Ticket 4711: the GP practice reports a referral it cannot open';
    const broken = await operator.request('GET', `Patient/${ids['Patient']}`, { headers: { [BREAK_GLASS_HEADER]: reason } });
    expect(broken.status).toBe(200);
    const recorded = (await auditor.request('GET', 'AuditEvent?subtype=break-glass')).body as Bundle;
    expect(recorded.entry!.map((e) => (e.resource as unknown as { purposeOfEvent: Array<{ text: string }> }).purposeOfEvent[0]!.text)).toContain(reason);
    // Nobody else can break the glass.
    expect((await b.request('GET', `Patient/${ids['Patient']}`, { headers: { [BREAK_GLASS_HEADER]: reason } })).status).toBe(403);
  });
});

describe('subscriptions and messages', () => {
  test('B’s Subscription to the GP’s Tasks hears nothing of A’s referral', async () => {
    const subscription = await b.request('POST', 'Subscription', {
      body: { resourceType: 'Subscription', status: 'requested', reason: 'watch', criteria: `Task?owner=${ids['gpRole']}`, channel: { type: 'rest-hook', endpoint: 'https://b.example.org/hook' } },
    });
    expect(subscription.status).toBe(201);
    const mine = await a.request('POST', 'Subscription', {
      body: { resourceType: 'Subscription', status: 'requested', reason: 'watch', criteria: `Task?owner=${ids['gpRole']}`, channel: { type: 'rest-hook', endpoint: 'https://a.example.org/hook' } },
    });
    const task = (await a.request('GET', `Task/${ids['Task']}`)).body;
    expect((await a.request('PUT', `Task/${ids['Task']}`, { body: { ...task, description: 'Please visit this week' } })).status).toBe(200);
    const notifications = async (subscriptionId: string) =>
      Number((await db.query(`SELECT count(*) AS n FROM outbox WHERE topic = 'subscription.notify' AND payload ->> 'subscriptionId' = $1`, [subscriptionId])).rows[0].n);
    expect(await notifications(subscription.body.id)).toBe(0);
    expect(await notifications(mine.body.id)).toBeGreaterThan(0);
    // B's Subscription itself is B's: A cannot read it.
    expect((await a.request('GET', `Subscription/${subscription.body.id}`)).status).toBe(404);
  });

  test('$process-message: a message B sends first with A’s source and Bundle.id does not make A’s genuine message a duplicate', async () => {
    const message = (family: string): Bundle => ({
      resourceType: 'Bundle',
      id: 'referral-message-0001',
      type: 'message',
      entry: [
        { fullUrl: 'urn:uuid:d0000000-0000-4000-8000-000000000001', resource: { resourceType: 'MessageHeader', eventCoding: { system: 'urn:carehub', code: 'referral' }, source: { endpoint: 'https://clinic-a.example.org/fhir' } } as FhirResource },
        { fullUrl: 'urn:uuid:d0000000-0000-4000-8000-000000000002', resource: { resourceType: 'Patient', name: [{ family }] } as FhirResource },
      ],
    });
    const first = await b.request('POST', '$process-message', { body: message('Spoofed') });
    expect(first.status).toBe(200);
    const genuine = await a.request('POST', '$process-message', { body: message('Genuine') });
    expect(genuine.status).toBe(200);
    const stored = (genuine.body as Bundle).entry![0]!.resource as unknown as { response: { code: string }; focus?: Array<{ reference: string }> };
    expect(stored.response.code).toBe('ok');
    expect((await a.request('GET', stored.focus![0]!.reference)).body.name[0].family).toBe('Genuine');
    // A sending again is A's duplicate: the same answer, nothing new.
    const again = await a.request('POST', '$process-message', { body: message('Genuine') });
    expect((again.body as Bundle).entry![0]!.resource).toEqual(stored);
  });
});
