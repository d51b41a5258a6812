import type { AuditEvent, Bundle } from 'fhir/r4.js';
import type { TypedFhirClient } from '../ops/lib/typed-fhir-client.js';
import { startApiHub, type ApiHub } from './support/api-hub.js';
import { waitFor } from './support/wait-for.js';

// Every read and write leaves an AuditEvent an auditor can search: who, what, when, outcome.
let api: ApiHub;
let fhir: TypedFhirClient;

beforeAll(async () => {
  api = await startApiHub();
  ({ fhir } = api);
});

afterAll(async () => {
  await api.stop();
});

async function auditsOf(entity: string, expected: number): Promise<AuditEvent[]> {
  return waitFor(async () => {
    const bundle: Bundle = await fhir.search('AuditEvent', { entity, _sort: '_lastUpdated' });
    const events = (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource as AuditEvent);
    return events.length >= expected ? events : undefined;
  }, `${expected} AuditEvents for ${entity}`);
}

test('a create, a read, an update and a refused read of a deleted resource are each audited with their outcome', async () => {
  const created = await fhir.create({ resourceType: 'Practitioner', name: [{ family: 'Audited' }] });
  await fhir.read('Practitioner', created.id);
  await fhir.update({ ...created, active: true });
  await fhir.delete('Practitioner', created.id);
  await fhir.read('Practitioner', created.id).catch(() => undefined);

  const events = await auditsOf(`Practitioner/${created.id}`, 5);
  expect(events.map((e) => [e.subtype![0]!.code, e.action, e.outcome])).toEqual([
    ['create', 'C', '0'],
    ['read', 'R', '0'],
    ['update', 'U', '0'],
    ['delete', 'D', '0'],
    ['read', 'R', '4'],
  ]);
  expect(events[0]!.agent[0]).toMatchObject({ requestor: true, who: { identifier: { value: 'anonymous' } }, network: { address: expect.any(String) } });
  expect(Date.parse(events[0]!.recorded)).not.toBeNaN();
});

test('a search is audited with its query', async () => {
  await fhir.search('Organization', { name: 'audit-me' });
  const events = await waitFor(async () => {
    const bundle = await fhir.search('AuditEvent', { subtype: 'search-type', _sort: '-_lastUpdated', _count: '5' });
    // The audited search of this test, not the searches for AuditEvents that poll for it.
    const found = (bundle.entry ?? [])
      .map((e) => e.resource as AuditEvent)
      .filter((e) => e.entity?.some((x) => x.query && Buffer.from(x.query, 'base64').toString().includes('audit-me')));
    return found.length > 0 ? found : undefined;
  }, 'an audited search');
  const query = Buffer.from(events[0]!.entity!.find((x) => x.query)!.query!, 'base64').toString();
  expect(query).toContain('name=audit-me');
});
