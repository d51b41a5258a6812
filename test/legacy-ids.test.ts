import type { Bundle, OperationOutcome, Patient } from 'fhir/r4.js';
import { stampOwner } from '../hub/src/auth/ownership.js';
import { shownId } from '../hub/src/fhir/fhir-id.js';
import type { RunningHub } from '@carehub/hub';
import { createResource } from '../hub/src/store/resource-store.js';
import { startAuthHub, type AuthHub, type Integrator } from './support/auth-hub.js';

// Before the FHIR id pattern was enforced, `PUT Patient/bad-id_1` stored a resource. Such
// resources stay readable, updatable and deletable by the organisation they belong to, and by
// nobody else (decision 0003); no new resource is stored under an id the pattern refuses.

let stack: AuthHub;
let hub: RunningHub;
let clinic: Integrator; // the organisation whose old system stored the resources
let other: Integrator; // another organisation, which is no party to them

/** Ids an earlier hub stored: with "_", longer than 64 characters, and non-ASCII (its Location header must still be sendable). */
const LEGACY_IDS = ['bad-id_1', `legacy-${'x'.repeat(70)}`, 'Søren_1'];

/** Stores `id` through the store itself, as an earlier hub's update-as-create did: no validator between. */
async function storeAsAnOldHubDid(id: string): Promise<void> {
  const patient: Patient = { resourceType: 'Patient', name: [{ family: 'Olsen', given: ['Karen'] }], birthDate: '1951-06-02' };
  await createResource(hub.db, stampOwner(patient, { organization: clinic.organization, roles: [] }), id);
}

const path = (id: string, rest = '') => `Patient/${encodeURIComponent(id)}${rest}`;
const said = (outcome: OperationOutcome) => outcome.issue.map((i) => `${i.diagnostics} ${(i.expression ?? []).join(' ')}`).join(' | ');

async function storedVersions(id: string): Promise<number> {
  const { rows } = await hub.db.query<{ n: string }>("SELECT count(*) AS n FROM resource_history WHERE resource_type = 'Patient' AND id = $1", [id]);
  return Number(rows[0]!.n);
}

beforeAll(async () => {
  stack = await startAuthHub();
  hub = stack.hub;
  clinic = await stack.integrator('clinic-legacy', 'Organization/clinic-legacy');
  other = await stack.integrator('other-org', 'Organization/other-org');
  for (const id of LEGACY_IDS) await storeAsAnOldHubDid(id);
});

afterAll(async () => {
  await stack.stop();
});

describe.each(LEGACY_IDS)('Patient/%s, stored before ids were checked', (id) => {
  test('the clinic reads it, its version and its history, and finds it by _id', async () => {
    const read = await clinic.request('GET', path(id));
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ resourceType: 'Patient', id, name: [{ family: 'Olsen' }] });
    expect(read.headers.get('etag')).toBe('W/"1"');
    const vread = await clinic.request('GET', path(id, '/_history/1'));
    expect(vread.status).toBe(200);
    expect(vread.body.id).toBe(id);
    const history = await clinic.request('GET', path(id, '/_history'));
    expect(history.status).toBe(200);
    expect((history.body as Bundle).entry!.map((e) => [e.resource?.id, e.response?.etag])).toEqual([[id, 'W/"1"']]);
    const search = await clinic.request('GET', `Patient?_id=${encodeURIComponent(id)}`);
    expect((search.body as Bundle).entry!.map((e) => e.resource!.id)).toEqual([id]);
  });

  test('another organisation is answered as if the id had never been stored, and changes nothing', async () => {
    const unknown = `never${id}`;
    for (const [method, rest] of [['GET', ''], ['GET', '/_history'], ['GET', '/_history/1'], ['DELETE', '']] as const) {
      const answer = await other.request(method, path(id, rest));
      const answerForUnknown = await other.request(method, path(unknown, rest));
      expect([method, rest, answer.status]).toEqual([method, rest, 400]);
      expect(said(answer.body).replaceAll(shownId(id), '<id>')).toBe(said(answerForUnknown.body).replaceAll(shownId(unknown), '<id>'));
    }
    const put = await other.request('PUT', path(id), { body: { resourceType: 'Patient', id, name: [{ family: 'Taken' }] } });
    expect(put.status).toBe(400);
    expect(await storedVersions(id)).toBe(1);
  });

  test('the clinic updates it with PUT and PATCH, then deletes it; a deleted one is not created again', async () => {
    const put = await clinic.request('PUT', path(id), { body: { resourceType: 'Patient', id, name: [{ family: 'Olsen-Berg', given: ['Karen'] }], birthDate: '1951-06-02' } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id, meta: { versionId: '2' }, name: [{ family: 'Olsen-Berg' }] });
    expect(put.headers.get('location')).toBe(`${stack.baseUrl}/fhir/${path(id, '/_history/2')}`);

    const patch = await clinic.request('PATCH', path(id), { body: [{ op: 'replace', path: '/birthDate', value: '1951-06-03' }], contentType: 'application/json-patch+json' });
    expect(patch.status).toBe(200);
    expect(patch.body).toMatchObject({ id, birthDate: '1951-06-03', meta: { versionId: '3' } });
    expect((await clinic.request('GET', path(id))).body).toMatchObject({ name: [{ family: 'Olsen-Berg' }], birthDate: '1951-06-03' });

    const deleted = await clinic.request('DELETE', path(id));
    expect(deleted.status).toBe(200);
    expect(deleted.headers.get('etag')).toBe('W/"4"');
    expect((await clinic.request('GET', path(id))).status).toBe(410);
    const history = await clinic.request('GET', path(id, '/_history'));
    expect((history.body as Bundle).entry!.map((e) => e.request!.method)).toEqual(['DELETE', 'PUT', 'PUT', 'POST']);

    const recreate = await clinic.request('PUT', path(id), { body: { resourceType: 'Patient', id } });
    expect(recreate.status).toBe(400);
    expect(said(recreate.body)).toContain(`${shownId(id)} is not a FHIR id`);
    expect(await storedVersions(id)).toBe(4);
  });
});

describe('what an update of a legacy id does not open up', () => {
  beforeAll(async () => {
    await storeAsAnOldHubDid('kept_2');
  });

  test('a new resource under an id the pattern refuses is refused with 400 naming the id, and nothing is stored', async () => {
    for (const id of ['new-id_1', 'n'.repeat(65)]) {
      const put = await clinic.request('PUT', path(id), { body: { resourceType: 'Patient', id } });
      expect(put.status).toBe(400);
      expect(said(put.body)).toContain(`${shownId(id)} is not a FHIR id`);
      expect(await storedVersions(id)).toBe(0);
    }
  });

  test('an update of a legacy id still checks every other id in the body, and that the body names the URL id', async () => {
    const contained = await clinic.request('PUT', path('kept_2'), {
      body: { resourceType: 'Patient', id: 'kept_2', contained: [{ resourceType: 'Organization', id: 'org_1', name: 'x' }], managingOrganization: { reference: '#org_1' } },
    });
    expect(contained.status).toBe(400);
    expect(said(contained.body)).toMatch(/Patient\.contained\[0\]\.id/);
    const otherId = await clinic.request('PUT', path('kept_2'), { body: { resourceType: 'Patient', id: 'kept-3' } });
    expect(otherId.status).toBe(400);
    expect(said(otherId.body)).toMatch(/must be the id in the URL/);
    const invalid = await clinic.request('PUT', path('kept_2'), { body: { resourceType: 'Patient', id: 'kept_2', birthDate: 1951 } });
    expect(invalid.status).toBe(400);
    expect(said(invalid.body)).toMatch(/Patient\.birthDate/);
    expect(await storedVersions('kept_2')).toBe(1);
  });
});
