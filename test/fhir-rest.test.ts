import type { Bundle, OperationOutcome, Organization, Practitioner, PractitionerRole, Task } from 'fhir/r4.js';
import type { RunningHub } from '@carehub/hub';
import type { TypedFhirClient } from '../ops/lib/typed-fhir-client.js';
import { gpPracticeBundle, idOf, referralBundle } from './support/fhir-fixtures.js';
import { startApiHub, type ApiHub } from './support/api-hub.js';

// FHIR R4 REST interactions beyond create/read, driven with fhir-kit-client as an integrator would.
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

/** The status and OperationOutcome of a request fhir-kit-client rejects. */
async function refusal(request: Promise<unknown>): Promise<{ status: number; outcome: OperationOutcome }> {
  const error = (await request.then(
    () => {
      throw new Error('the request was accepted');
    },
    (e: unknown) => e,
  )) as { response: { status: number; data: OperationOutcome } };
  return { status: error.response.status, outcome: error.response.data };
}

const practitioner = (family: string): Practitioner => ({ resourceType: 'Practitioner', name: [{ family }] });

describe('update (PUT) with version checks', () => {
  test('an update with the current version in If-Match writes version 2; a stale one is refused with 412', async () => {
    const created = await fhir.create(practitioner('Holm'));
    const updated = await fhir.update({ ...created, name: [{ family: 'Holm-Berg' }] }, { 'If-Match': 'W/"1"' });
    expect(updated.meta!.versionId).toBe('2');

    const stale = await refusal(fhir.update({ ...created, name: [{ family: 'Lost update' }] }, { 'If-Match': 'W/"1"' }));
    expect(stale.status).toBe(412);
    expect(stale.outcome.issue[0]!.code).toBe('conflict');
    expect(await fhir.read<Practitioner>('Practitioner', created.id)).toMatchObject({ name: [{ family: 'Holm-Berg' }] });
  });

  test("a body whose id is not the URL's is refused with 400; an update to a new id creates it (201)", async () => {
    const created = await fhir.create(practitioner('Lund'));
    const mismatch = await fetch(`${hub.baseUrl}/fhir/Practitioner/${created.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ ...practitioner('Lund'), id: 'someone-else' }),
    });
    expect(mismatch.status).toBe(400);

    const put = await fetch(`${hub.baseUrl}/fhir/Practitioner/gp-0042`, {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ ...practitioner('Dahl'), id: 'gp-0042' }),
    });
    expect(put.status).toBe(201);
    expect(put.headers.get('etag')).toBe('W/"1"');
  });

  test('Prefer: return=minimal answers without a body; return=OperationOutcome with one', async () => {
    const minimal = await fetch(`${hub.baseUrl}/fhir/Practitioner`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' },
      body: JSON.stringify(practitioner('Vang')),
    });
    expect(minimal.status).toBe(201);
    expect(await minimal.text()).toBe('');
    expect(minimal.headers.get('location')).toMatch(/\/fhir\/Practitioner\/[\w-]+\/_history\/1$/);

    const outcome = await fetch(`${hub.baseUrl}/fhir/Practitioner`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', prefer: 'return=OperationOutcome' },
      body: JSON.stringify(practitioner('Vang')),
    });
    expect(((await outcome.json()) as OperationOutcome).issue[0]!.severity).toBe('information');
  });
});

describe('delete and history', () => {
  test('a deleted resource reads as 410 Gone, its history keeps every version, and deleting again changes nothing', async () => {
    const created = await fhir.create(practitioner('Krog'));
    await fhir.update({ ...created, name: [{ family: 'Krogh' }] });
    await fhir.delete('Practitioner', created.id);

    expect((await refusal(fhir.read('Practitioner', created.id))).status).toBe(410);
    expect(await fhir.vread('Practitioner', created.id, '2')).toMatchObject({ name: [{ family: 'Krogh' }] });

    const history = await fhir.history('Practitioner', created.id);
    expect(history.type).toBe('history');
    expect(history.entry!.map((e) => [e.request!.method, e.response!.etag])).toEqual([
      ['DELETE', 'W/"3"'],
      ['PUT', 'W/"2"'],
      ['POST', 'W/"1"'],
    ]);
    expect(history.entry![0]!.resource).toBeUndefined();

    await fhir.delete('Practitioner', created.id);
    expect((await fhir.history('Practitioner', created.id)).entry).toHaveLength(3);
    const typeHistory = (await fhir.raw.history({ resourceType: 'Practitioner' })) as unknown as Bundle;
    expect(typeHistory.entry![0]).toMatchObject({ request: { method: 'DELETE', url: `Practitioner/${created.id}` } });
    expect((await refusal(fhir.history('Practitioner', 'never-existed'))).status).toBe(404);
  });
});

describe('patch (RFC 6902 JSON Patch)', () => {
  test('a patch writes a new version; a failing test operation is 422; a patch that breaks the resource is 400', async () => {
    const created = await fhir.create(practitioner('Moe'));
    const patched = await fhir.patch<Practitioner>('Practitioner', created.id, [{ op: 'add', path: '/active', value: true }], { 'If-Match': 'W/"1"' });
    expect(patched).toMatchObject({ active: true, meta: { versionId: '2' } });

    const failedTest = await refusal(fhir.patch('Practitioner', created.id, [{ op: 'test', path: '/active', value: false }]));
    expect(failedTest.status).toBe(422);
    const broken = await refusal(fhir.patch('Practitioner', created.id, [{ op: 'add', path: '/birthDate', value: 'soon' }]));
    expect(broken.status).toBe(400);
    expect(broken.outcome.issue.flatMap((i) => i.expression ?? [])).toContain('Practitioner.birthDate');
    expect((await fhir.read<Practitioner>('Practitioner', created.id)).meta!.versionId).toBe('2');
  });
});

describe('referrals and updates', () => {
  test('a draft Task updated to requested is queued for delivery once; later edits do not queue it again', async () => {
    const roleId = idOf(await fhir.transaction(gpPracticeBundle('@gp:carehub.test')), 'PractitionerRole');
    const bundle = referralBundle(`PractitionerRole/${roleId}`);
    (bundle.entry![2]!.resource as Task).status = 'draft';
    const taskId = idOf(await fhir.transaction(bundle), 'Task');
    const outboxRows = async () =>
      Number((await hub.db.query<{ n: string }>("SELECT count(*) AS n FROM outbox WHERE payload->>'taskId' = $1", [taskId])).rows[0]!.n);
    expect(await outboxRows()).toBe(0);

    const draft = await fhir.read<Task & { id: string }>('Task', taskId);
    const requested = await fhir.update({ ...draft, status: 'requested' });
    expect(await outboxRows()).toBe(1);
    await fhir.update({ ...requested, id: taskId, description: 'Now with a description' });
    expect(await outboxRows()).toBe(1);
  });
});

describe('conditional create, batch and richer transactions', () => {
  const organization = (value: string, name = 'Havnegade Home Care'): Organization => ({
    resourceType: 'Organization',
    identifier: [{ system: 'urn:oid:1.2.208.176.1.1', value }],
    name,
  });

  test('If-None-Exist creates once (201), then answers with the existing resource (200); several matches are 412', async () => {
    const headers = { 'content-type': 'application/fhir+json', 'if-none-exist': 'identifier=urn:oid:1.2.208.176.1.1|555001' };
    const first = await fetch(`${hub.baseUrl}/fhir/Organization`, { method: 'POST', headers, body: JSON.stringify(organization('555001')) });
    const second = await fetch(`${hub.baseUrl}/fhir/Organization`, { method: 'POST', headers, body: JSON.stringify(organization('555001')) });
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(((await second.json()) as Organization).id).toBe(((await first.json()) as Organization).id);

    await fhir.create(organization('555002', 'Twin A'));
    await fhir.create(organization('555002', 'Twin B'));
    const ambiguous = await fetch(`${hub.baseUrl}/fhir/Organization`, {
      method: 'POST',
      headers: { ...headers, 'if-none-exist': 'identifier=urn:oid:1.2.208.176.1.1|555002' },
      body: JSON.stringify(organization('555002')),
    });
    expect(ambiguous.status).toBe(412);
  });

  test('a transaction mixes conditional create, update and delete, and references resolve to the existing resource', async () => {
    const existing = await fhir.create(organization('555100', 'Existing Practice'));
    const doomed = await fhir.create<Practitioner>({ resourceType: 'Practitioner', name: [{ family: 'Gone' }] });
    const response = await fhir.transaction({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:0f1d4b2a-0000-4000-8000-000000000001',
          resource: organization('555100'),
          request: { method: 'POST', url: 'Organization', ifNoneExist: 'identifier=urn:oid:1.2.208.176.1.1|555100' },
        },
        {
          resource: { resourceType: 'PractitionerRole', id: 'role-555100', organization: { reference: 'urn:uuid:0f1d4b2a-0000-4000-8000-000000000001' } } as PractitionerRole,
          request: { method: 'PUT', url: 'PractitionerRole/role-555100' },
        },
        { request: { method: 'DELETE', url: `Practitioner/${doomed.id}` } },
      ],
    });
    expect(response.entry!.map((e) => e.response!.status)).toEqual(['200 OK', '201 Created', '204']);
    const role = await fhir.read<PractitionerRole>('PractitionerRole', 'role-555100');
    expect(role.organization!.reference).toBe(`Organization/${existing.id}`);
    expect((await refusal(fhir.read('Practitioner', doomed.id))).status).toBe(410);
  });

  test('a batch runs each entry on its own: a bad entry answers with its error and the others are stored', async () => {
    const response = await fhir.raw.batch({
      body: {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { resource: practitioner('Batch-one'), request: { method: 'POST', url: 'Practitioner' } },
          { resource: { resourceType: 'Practitioner', birthDate: 'never' }, request: { method: 'POST', url: 'Practitioner' } },
          { request: { method: 'GET', url: 'Practitioner/not-there' } },
        ],
      } as never,
    });
    const entries = (response as unknown as Bundle).entry!;
    expect(entries.map((e) => e.response!.status)).toEqual(['201 Created', '400', '404']);
    expect(entries[1]!.response!.outcome!.resourceType).toBe('OperationOutcome');
    expect(entries[0]!.resource!.id).toBeTruthy();
  });

  test("a county's directory loads in transaction Bundles of 1,000 entries", async () => {
    const entry = Array.from({ length: 1000 }, (_, i) => ({
      fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resource: practitioner(`Bulk-${i}`),
      request: { method: 'POST' as const, url: 'Practitioner' },
    }));
    const response = await fhir.transaction({ resourceType: 'Bundle', type: 'transaction', entry });
    expect(response.entry).toHaveLength(1000);
    expect((await fhir.search('Practitioner', { name: 'bulk-999' })).entry!.filter((e) => e.search?.mode === 'match')).toHaveLength(1);
  });
});

describe('conflicts', () => {
  test('two writers creating the same id at once: the one that loses gets 409 and can retry', async () => {
    // Another writer's transaction creates Practitioner/race-1 and stays open…
    const other = await hub.db.connect();
    await other.query('BEGIN');
    await other.query(
      `INSERT INTO resources (resource_type, id, version_id, last_updated, content) VALUES ('Practitioner', 'race-1', 1, now(), '{"resourceType":"Practitioner","id":"race-1"}');
       INSERT INTO resource_history (resource_type, id, version_id, last_updated, content) VALUES ('Practitioner', 'race-1', 1, now(), '{"resourceType":"Practitioner","id":"race-1"}')`,
    );
    // …while an integrator creates the same id with PUT; it waits on the other's row, which then commits.
    const put = fetch(`${hub.baseUrl}/fhir/Practitioner/race-1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Practitioner', id: 'race-1', name: [{ family: 'Second' }] }),
    });
    await new Promise((r) => setTimeout(r, 300));
    await other.query('COMMIT');
    other.release();
    const response = await put;
    expect(response.status).toBe(409);
    expect(((await response.json()) as OperationOutcome).issue[0]!.code).toBe('conflict');
    // A retry sees the committed version and updates it.
    const retry = await fhir.update<Practitioner>({ resourceType: 'Practitioner', id: 'race-1', name: [{ family: 'Second' }] });
    expect(retry.meta!.versionId).toBe('2');
  });
});
