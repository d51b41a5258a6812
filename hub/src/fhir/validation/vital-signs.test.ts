import type { Observation, Resource } from 'fhir/r4.js';
import { loadFhirDefinitions } from '../resource-validator.js';
import { vitalSignsIssues } from './vital-signs.js';

beforeAll(() => loadFhirDefinitions());

const temperature = (coding: object[], effective: Partial<Observation> = { effectiveDateTime: '2024-03-01T09:50:55Z' }): Observation =>
  ({
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding },
    subject: { reference: 'Patient/p1' },
    ...effective,
    valueQuantity: { value: 36.9, unit: 'Cel', system: 'http://unitsofmeasure.org', code: 'Cel' },
  }) as Observation;

const loinc = { system: 'http://loinc.org', code: '8310-5' };
const snomed = { system: 'http://snomed.info/sct', code: '276885007' };

test('a body temperature coded in SNOMED CT alone must carry the LOINC code the bodytemp profile requires', () => {
  const issues = vitalSignsIssues(temperature([snomed]));
  expect(issues.map((i) => i.expression)).toEqual([['Observation.code.coding']]);
  expect(issues[0]!.diagnostics).toMatch(/slice 'BodyTempCode'.*http:\/\/hl7.org\/fhir\/StructureDefinition\/bodytemp\|4.0.1/);
  expect(vitalSignsIssues(temperature([snomed, loinc]))).toEqual([]);
});

test('a vital sign measured over a period meets vs-1, which applies to a dateTime only', () => {
  expect(vitalSignsIssues(temperature([loinc], { effectivePeriod: { start: '2024-03-01T09:00:00Z' } }))).toEqual([]);
  expect(vitalSignsIssues(temperature([loinc], { effectiveDateTime: '2024' })).map((i) => i.expression)).toEqual([['Observation.effective[x]']]);
});

test('an Observation that is no vital sign is left alone, and vital signs in a Bundle are checked at their entry', () => {
  const glucose = { ...temperature([{ system: 'http://loinc.org', code: '2339-0' }]), category: [] } as unknown as Resource;
  expect(vitalSignsIssues(glucose)).toEqual([]);
  const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: temperature([snomed]) }] } as Resource;
  expect(vitalSignsIssues(bundle).map((i) => i.expression)).toEqual([['Bundle.entry[0].resource.code.coding']]);
});
