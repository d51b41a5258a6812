import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CodeSystem, Resource } from 'fhir/r4.js';
import { CAREHUB_PROFILES, profileIssues, profilesFor } from './carehub-profiles.js';
import { carehubTerminology } from './carehub-terminology.js';

const examplesDir = fileURLToPath(new URL('../examples/', import.meta.url));
const example = (file: string) => JSON.parse(readFileSync(examplesDir + file, 'utf8')) as Resource & Record<string, unknown>;
const paths = (resource: Resource) => profileIssues(resource).flatMap((i) => i.expression ?? []);

describe("CareHub's profiles", () => {
  test.each(readdirSync(examplesDir).filter((f) => f.endsWith('.json')))('the example %s conforms', (file) => {
    const resource = example(file);
    expect(profilesFor(resource)).not.toHaveLength(0);
    expect(profileIssues(resource)).toEqual([]);
  });

  test.each([
    ['an Organization without identifier', 'organization-gp-practice.json', (r: Record<string, unknown>) => delete r['identifier'], 'Organization.identifier'],
    [
      'an Organization of an unknown kind',
      'organization-gp-practice.json',
      (r: Record<string, unknown>) => (r['type'] = [{ coding: [{ system: 'http://carehub.example.org/fhir/CodeSystem/organization-kind', code: 'spa' }] }]),
      'Organization.type[0]',
    ],
    ['an Organization identifier without system', 'organization-home-care.json', (r: Record<string, unknown>) => (r['identifier'] = [{ value: '1' }]), 'Organization.identifier[0]'],
    ['a PractitionerRole without organization', 'practitioner-role-gp.json', (r: Record<string, unknown>) => delete r['organization'], 'PractitionerRole.organization'],
    ['a Matrix Endpoint with an e-mail address', 'endpoint-matrix.json', (r: Record<string, unknown>) => (r['address'] = 'mailto:jensen@example.org'), 'Endpoint.address'],
    ['a referral ServiceRequest that is only a proposal', 'service-request-referral.json', (r: Record<string, unknown>) => (r['intent'] = 'proposal'), 'ServiceRequest.intent'],
    ['a referral ServiceRequest without code', 'service-request-referral.json', (r: Record<string, unknown>) => delete r['code'], 'ServiceRequest.code'],
    ['a referral Task without owner', 'task-referral.json', (r: Record<string, unknown>) => delete r['owner'], 'Task.owner'],
    ['a referral Task without requester', 'task-referral.json', (r: Record<string, unknown>) => delete r['requester'], 'Task.requester'],
  ])('%s fails with its element path', (_name, file, breakIt, path) => {
    const resource = example(file);
    breakIt(resource);
    expect(paths(resource)).toContain(path);
  });

  test('the hub applies the Matrix Endpoint and referral Task profiles whether claimed or not', () => {
    const endpoint = { ...example('endpoint-matrix.json'), meta: undefined, address: 'https://example.org' };
    expect(profilesFor(endpoint)).toEqual([CAREHUB_PROFILES.matrixEndpoint]);
    expect(paths(endpoint)).toContain('Endpoint.address');
    const task = { ...example('task-referral.json'), meta: undefined };
    delete (task as Record<string, unknown>)['owner'];
    expect(paths(task)).toContain('Task.owner');
    expect(profilesFor({ resourceType: 'Organization' })).toEqual([]);
  });
});

describe('every actor of a care network has a kind in the directory', () => {
  const kinds = carehubTerminology().find((resource): resource is CodeSystem => resource.url?.endsWith('/CodeSystem/organization-kind') === true)!;
  const kindCodes = (kinds.concept ?? []).map((concept) => concept.code);

  test("the kinds cover the counties' plans: GPs, insurers, hospitals, care and other service providers, self-help groups, and more", () => {
    expect(kindCodes).toEqual(
      expect.arrayContaining([
        'gp-practice', 'health-insurer', 'care-insurer', 'clinic', 'home-care', 'nursing-home', 'day-care', 'service-provider', 'self-help-group',
        'specialist', 'therapy-practice', 'pharmacy', 'social-services', 'care-assistance-office', 'care-counselling',
      ]),
    );
  });

  test.each(kindCodes)('an Organization of kind %s conforms to the CareHub Organization profile', (code) => {
    const organization = example('organization-gp-practice.json');
    organization['type'] = [{ coding: [{ system: kinds.url, code }] }];
    expect(profileIssues(organization)).toEqual([]);
  });
});
