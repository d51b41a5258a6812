import type { Bundle, OperationOutcome, Organization, Practitioner, Resource } from 'fhir/r4.js';
import { CAREHUB_ENDPOINT_CONNECTION_SYSTEM, type RunningHub } from '@carehub/hub';
import type { TypedFhirClient } from '../ops/lib/typed-fhir-client.js';
import { startApiHub, type ApiHub } from './support/api-hub.js';

// Directory searches an integrator makes, with fhir-kit-client, on a small county directory.
let hub: RunningHub;
let api: ApiHub;
let fhir: TypedFhirClient;
const ids: Record<string, string> = {};

const SOR = 'urn:oid:1.2.208.176.1.1';

beforeAll(async () => {
  api = await startApiHub();
  ({ hub, fhir } = api);

  const org = (name: string, sor: string, city: string, active = true) =>
    fhir.create<Organization>({ resourceType: 'Organization', active, name, identifier: [{ system: SOR, value: sor }], address: [{ city, postalCode: city === 'Nordby' ? '8900' : '8920' }] });
  ids['lindegaarden'] = (await org('Lindegården Lægehus', '100001', 'Nordby')).id;
  ids['fjordvej'] = (await org('Fjordvej GP Practice', '100002', 'Sønderby')).id;
  ids['closed'] = (await org('Old Mill Practice', '100003', 'Nordby', false)).id;
  const gp = (family: string, given: string, active = true) => fhir.create<Practitioner>({ resourceType: 'Practitioner', active, name: [{ family, given: [given] }] });
  ids['jensen'] = (await gp('Jensen', 'Karen')).id;
  ids['berg'] = (await gp('Berg', 'Sara')).id;
  ids['retired'] = (await gp('Jensby', 'Ole', false)).id;
  const endpoint = (user: string) =>
    fhir.create({
      resourceType: 'Endpoint',
      status: 'active',
      connectionType: { system: CAREHUB_ENDPOINT_CONNECTION_SYSTEM, code: 'matrix' },
      payloadType: [{ text: 'referrals' }],
      address: `matrix:u/@${user}:carehub.test`,
    });
  ids['jensenEndpoint'] = (await endpoint('jensen')).id;
  ids['bergEndpoint'] = (await endpoint('berg')).id;
  const role = (practitioner: string, organization: string, endpointId: string, specialty: string) =>
    fhir.create({
      resourceType: 'PractitionerRole',
      active: true,
      practitioner: { reference: `Practitioner/${practitioner}` },
      organization: { reference: `Organization/${organization}` },
      endpoint: [{ reference: `Endpoint/${endpointId}` }],
      specialty: [{ coding: [{ system: 'http://snomed.info/sct', code: specialty }] }],
    });
  ids['jensenRole'] = (await role(ids['jensen']!, ids['lindegaarden']!, ids['jensenEndpoint']!, '394814009')).id;
  ids['bergRole'] = (await role(ids['berg']!, ids['fjordvej']!, ids['bergEndpoint']!, '394814009')).id;
  ids['retiredRole'] = (await role(ids['retired']!, ids['closed']!, ids['jensenEndpoint']!, '419772000')).id;
});

afterAll(async () => {
  await api.stop();
});

const matches = (bundle: Bundle) => (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource!.id);
const included = (bundle: Bundle) => (bundle.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => `${e.resource!.resourceType}/${e.resource!.id}`);

describe('an integrator searches the directory', () => {
  test.each([
    ['identifier system|value', 'Organization', { identifier: `${SOR}|100002` }, ['fjordvej']],
    ['name, starts-with and accent-insensitive', 'Organization', { name: 'lindegarden' }, ['lindegaarden']],
    ['name:exact', 'Organization', { 'name:exact': 'Fjordvej GP Practice' }, ['fjordvej']],
    ['name:contains', 'Organization', { 'name:contains': 'mill' }, ['closed']],
    ['active and address-city together', 'Organization', { active: 'true', 'address-city': 'Nordby' }, ['lindegaarden']],
    ['address-postalcode with alternatives', 'Organization', { 'address-postalcode': '8900,8920', active: 'true' }, ['fjordvej', 'lindegaarden']],
    ['practitioner name, over given and family', 'Practitioner', { name: 'jens' }, ['jensen', 'retired']],
    ['roles of an organisation', 'PractitionerRole', { organization: 'Organization/{fjordvej}' }, ['bergRole']],
    ['roles by practitioner id alone', 'PractitionerRole', { practitioner: '{jensen}' }, ['jensenRole']],
    ['roles reaching an endpoint', 'PractitionerRole', { endpoint: 'Endpoint/{jensenEndpoint}' }, ['jensenRole', 'retiredRole']],
    ['roles by specialty', 'PractitionerRole', { specialty: 'http://snomed.info/sct|419772000' }, ['retiredRole']],
    ['Matrix endpoints by connection-type', 'Endpoint', { 'connection-type': `${CAREHUB_ENDPOINT_CONNECTION_SYSTEM}|matrix` }, ['bergEndpoint', 'jensenEndpoint']],
    ['a chain: roles whose practitioner is named Berg', 'PractitionerRole', { 'practitioner.name': 'berg' }, ['bergRole']],
    ['a chain on a token: roles of active practitioners', 'PractitionerRole', { 'practitioner.active': 'true' }, ['bergRole', 'jensenRole']],
    ['_id with alternatives', 'Practitioner', { _id: '{berg},{jensen}' }, ['berg', 'jensen']],
  ] as const)('%s', async (_name, type, params, expected) => {
    const searchParams = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.replace(/\{(\w+)\}/g, (_m, key: string) => ids[key]!)]));
    const bundle = await fhir.search(type, searchParams);
    expect(bundle.type).toBe('searchset');
    expect([...matches(bundle)].sort()).toEqual(expected.map((k) => ids[k]).sort());
  });

  test("TI-Messenger's canonical directory query: roles of active practitioners with their practitioner and endpoint", async () => {
    const bundle = await fhir.search('PractitionerRole', {
      'practitioner.active': 'true',
      _include: ['PractitionerRole:practitioner', 'PractitionerRole:endpoint'],
    });
    expect([...matches(bundle)].sort()).toEqual([ids['bergRole'], ids['jensenRole']].sort());
    expect(included(bundle).sort()).toEqual(
      [`Practitioner/${ids['berg']}`, `Practitioner/${ids['jensen']}`, `Endpoint/${ids['bergEndpoint']}`, `Endpoint/${ids['jensenEndpoint']}`].sort(),
    );
  });

  test('_revinclude brings the roles of the organisations found', async () => {
    const bundle = await fhir.search('Organization', { _id: ids['lindegaarden']!, _revinclude: 'PractitionerRole:organization' });
    expect(included(bundle)).toEqual([`PractitionerRole/${ids['jensenRole']}`]);
  });

  test('_summary=count answers the total only; _elements trims and marks the resources', async () => {
    const count = await fhir.search('Organization', { _summary: 'count' });
    expect(count.total).toBe(3);
    expect(count.entry).toBeUndefined();
    const trimmed = await fhir.search('Organization', { _id: ids['fjordvej']!, _elements: 'name' });
    const resource = trimmed.entry![0]!.resource as Organization;
    expect(resource.name).toBe('Fjordvej GP Practice');
    expect(resource.identifier).toBeUndefined();
    expect(resource.meta!.tag!.map((t) => t.code)).toContain('SUBSETTED');
  });

  test('an unknown parameter is ignored with a warning, or refused with 400 under Prefer: handling=strict', async () => {
    const lenient = await fhir.search('Organization', { favourite: 'yes', name: 'fjord' });
    expect(matches(lenient)).toEqual([ids['fjordvej']]);
    const warning = lenient.entry!.find((e) => e.search?.mode === 'outcome')!.resource as OperationOutcome;
    expect(warning.issue[0]).toMatchObject({ severity: 'warning', diagnostics: expect.stringContaining('favourite') });
    await expect(fhir.search('Organization', { favourite: 'yes' }, { prefer: 'handling=strict' })).rejects.toMatchObject({ response: { status: 400 } });
  });

  test('POST _search finds what GET finds', async () => {
    const response = await fetch(`${hub.baseUrl}/fhir/PractitionerRole/_search`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ 'practitioner.name': 'berg' }).toString(),
    });
    expect(matches((await response.json()) as Bundle)).toEqual([ids['bergRole']]);
  });

  test('updates and deletes show in search at once (indexes are written with the resource)', async () => {
    const renamed = await fhir.create<Practitioner>({ resourceType: 'Practitioner', name: [{ family: 'Quist' }] });
    expect(matches(await fhir.search('Practitioner', { name: 'quist' }))).toEqual([renamed.id]);
    await fhir.update({ ...renamed, name: [{ family: 'Qvist' }] });
    expect(matches(await fhir.search('Practitioner', { name: 'quist' }))).toEqual([]);
    expect(matches(await fhir.search('Practitioner', { name: 'qvist' }))).toEqual([renamed.id]);
    await fhir.delete('Practitioner', renamed.id);
    expect(matches(await fhir.search('Practitioner', { name: 'qvist' }))).toEqual([]);
  });
});

describe('more directory parameters', () => {
  test('_lastUpdated with prefixes, Organization type, HealthcareService service-type and roles by location', async () => {
    const before = new Date(Date.now() - 1000).toISOString();
    const location = await fhir.create({ resourceType: 'Location', name: 'Nordby Health House' });
    const homecare = await fhir.create<Organization>({
      resourceType: 'Organization',
      name: 'Havnegade Home Care',
      type: [{ coding: [{ system: 'http://carehub.example.org/fhir/CodeSystem/organization-kind', code: 'home-care' }] }],
    });
    const service = await fhir.create({
      resourceType: 'HealthcareService',
      providedBy: { reference: `Organization/${homecare.id}` },
      type: [{ coding: [{ system: 'http://snomed.info/sct', code: '385763009', display: 'Hospice care' }] }],
      name: 'Night care',
    });
    const role = await fhir.create({ resourceType: 'PractitionerRole', location: [{ reference: `Location/${location.id}` }], organization: { reference: `Organization/${homecare.id}` } });

    expect(matches(await fhir.search('Organization', { type: 'http://carehub.example.org/fhir/CodeSystem/organization-kind|home-care' }))).toEqual([homecare.id]);
    expect(matches(await fhir.search('HealthcareService', { 'service-type': '385763009' }))).toEqual([service.id]);
    expect(matches(await fhir.search('PractitionerRole', { location: `Location/${location.id}` }))).toEqual([role.id]);
    expect(matches(await fhir.search('Location', { _lastUpdated: `ge${before}` }))).toEqual([location.id]);
    expect(matches(await fhir.search('Location', { _lastUpdated: `lt${before}` }))).toEqual([]);
    await expect(fhir.search('Location', { _lastUpdated: 'yesterday' })).rejects.toMatchObject({ response: { status: 400 } });
  });
});

describe('paging', () => {
  async function allPages(first: Bundle): Promise<string[]> {
    const seen: string[] = [];
    for (let page: Bundle | undefined = first; page; page = await fhir.nextPage(page)) seen.push(...matches(page).map(String));
    return seen;
  }

  test('next links walk every match exactly once, even when resources are added between pages', async () => {
    const first = await fhir.search('Practitioner', { _count: '2' });
    expect(first.link!.map((l) => l.relation)).toEqual(['self', 'next']);
    // Written while the client pages: keyset paging neither repeats nor skips what it already had.
    const late = await fhir.create<Practitioner>({ resourceType: 'Practitioner', name: [{ family: 'Late' }] });
    const all = await allPages(first);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual(expect.arrayContaining([ids['jensen'], ids['berg'], ids['retired']]));
    expect(all.includes(late.id)).toBe(late.id > matches(first).at(-1)!);
  });

  test('a previous link leads back to the page before', async () => {
    const first = await fhir.search('Organization', { _count: '1', _sort: '-_lastUpdated' });
    const second = (await fhir.nextPage(first))!;
    const previousUrl = second.link!.find((l) => l.relation === 'previous')!.url;
    const back = (await (await fetch(previousUrl)).json()) as Bundle;
    expect(matches(back)).toEqual(matches(first));
  });

  test('_sort=-_lastUpdated lists the newest first', async () => {
    const bundle = await fhir.search('Organization', { _sort: '-_lastUpdated' });
    const updated = bundle.entry!.map((e) => (e.resource as Resource).meta!.lastUpdated!);
    expect([...updated].sort().reverse()).toEqual(updated);
  });
});
