import type { Resource } from 'fhir/r4.js';
import { resourceIdIssues } from './resource-ids.js';

test('a Patient sent as bad-id_1 is refused at Patient.id, with the pattern', () => {
  const [issue, ...rest] = resourceIdIssues({ resourceType: 'Patient', id: 'bad-id_1' });
  expect(rest).toEqual([]);
  expect(issue).toMatchObject({ severity: 'error', expression: ['Patient.id'] });
  expect(issue!.diagnostics).toMatch(/"bad-id_1" \(8 characters\) is not a FHIR id/);
});

test('contained resources and Bundle entries are held to the same pattern; good ids pass', () => {
  const bundle = {
    resourceType: 'Bundle',
    id: 'b-1',
    type: 'collection',
    entry: [{ resource: { resourceType: 'Organization', id: 'x'.repeat(90), contained: [{ resourceType: 'Organization', id: 'org_1' }] } }],
  } as Resource;
  expect(resourceIdIssues(bundle).map((i) => i.expression)).toEqual([['Bundle.entry[0].resource.id'], ['Bundle.entry[0].resource.contained[0].id']]);
  expect(resourceIdIssues({ resourceType: 'Patient', id: 'Patient-1.v2', contained: [{ resourceType: 'Patient', id: 'p1' }] } as Resource)).toEqual([]);
});
