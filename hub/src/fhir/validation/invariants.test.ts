import type { Resource } from 'fhir/r4.js';
import { loadFhirDefinitions } from '../resource-validator.js';
import { invariantIssues } from './invariants.js';

beforeAll(() => loadFhirDefinitions());

const encounter = (period: object): Resource => ({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, period }) as Resource;

function failed(resource: Resource): Array<[string | undefined, string | undefined]> {
  return invariantIssues(resource).map((i) => [i.expression?.[0], i.diagnostics?.match(/^Constraint failed: ([a-z]+-\d+)/)?.[1]]);
}

test("an Encounter that ends before it starts breaks Period's per-1 at Encounter.period", () => {
  expect(failed(encounter({ start: '2024-03-02', end: '2024-03-01' }))).toEqual([['Encounter.period', 'per-1']]);
  expect(invariantIssues(encounter({ start: '2024-03-01', end: '2024-03-02' }))).toEqual([]);
});

test('per-1 compares dateTimes as times: across zones, and at the precision both have', () => {
  // 10:00 in Sydney is midnight UTC, before 05:00 UTC: in order, though not as text.
  expect(invariantIssues(encounter({ start: '2024-03-01T10:00:00+10:00', end: '2024-03-01T05:00:00Z' }))).toEqual([]);
  expect(failed(encounter({ start: '2024-03-01T10:00:00Z', end: '2024-03-01T05:00:00+01:00' }))).toEqual([['Encounter.period', 'per-1']]);
  // Equal to the day, one more precise: FHIRPath cannot order them, so the invariant fails (as HL7's validator says).
  expect(failed(encounter({ start: '2023-06-21', end: '2023-06-21T06:20:00Z' }))).toEqual([['Encounter.period', 'per-1']]);
  expect(invariantIssues(encounter({ start: '2023-06-20', end: '2023-06-21T06:20:00Z' }))).toEqual([]);
});

test("a datatype's invariants hold for its values anywhere: nested, in contained resources and in Bundle entries", () => {
  const bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      {
        resource: {
          resourceType: 'Patient',
          contained: [{ resourceType: 'Practitioner', id: 'gp', telecom: [{ value: '+31 20 555 0100' }] }],
          identifier: [{ value: 'A', period: { start: '2024-02-01', end: '2024-01-01' } }],
        },
      },
    ],
  } as Resource;
  expect(failed(bundle)).toEqual([
    ['Bundle.entry[0].resource.contained[0].telecom[0]', 'cpt-2'],
    ['Bundle.entry[0].resource.identifier[0].period', 'per-1'],
  ]);
});

test('a choice value is named by its type, as HL7 names it', () => {
  const observation = { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, valueQuantity: { value: 70, code: 'kg' } } as Resource;
  expect(failed(observation)).toEqual([['Observation.value.ofType(Quantity)', 'qty-3']]);
});

test('a Range is judged only when both ends share a unit, since the engine compares numbers alone', () => {
  const observation = (low: object, high: object): Resource =>
    ({ resourceType: 'Observation', status: 'final', code: { text: 'dose' }, valueRange: { low, high } }) as Resource;
  const mg = (value: number) => ({ value, system: 'http://unitsofmeasure.org', code: 'mg' });
  expect(failed(observation(mg(5), mg(2)))).toEqual([['Observation.value.ofType(Range)', 'rng-2']]);
  expect(invariantIssues(observation(mg(500), { value: 1, system: 'http://unitsofmeasure.org', code: 'g' }))).toEqual([]);
});

test('que-12 asks for enableBehavior from two enableWhen on, as HL7 corrects R4\'s "> 2"', () => {
  const questionnaire = (enableWhen: object[], enableBehavior?: string): Resource =>
    ({
      resourceType: 'Questionnaire',
      status: 'active',
      item: [
        { linkId: 'a', type: 'boolean' },
        { linkId: 'b', type: 'boolean', enableWhen, ...(enableBehavior ? { enableBehavior } : {}) },
      ],
    }) as Resource;
  const when = { question: 'a', operator: '=', answerBoolean: true };
  expect(failed(questionnaire([when, when]))).toEqual([['Questionnaire.item[1]', 'que-12']]);
  expect(invariantIssues(questionnaire([when, when], 'all'))).toEqual([]);
  expect(invariantIssues(questionnaire([when]))).toEqual([]);
});

test('an Organization needs an identifier or a name (org-1, which Medplum skips), contained ones too', () => {
  expect(failed({ resourceType: 'Organization', active: true } as Resource)).toEqual([['Organization', 'org-1']]);
  expect(invariantIssues({ resourceType: 'Organization', name: 'Huisartsenpraktijk Zuid' } as Resource)).toEqual([]);
  const task = { resourceType: 'Task', status: 'requested', intent: 'order', contained: [{ resourceType: 'Organization', id: 'o', active: true }] } as Resource;
  expect(failed(task)).toEqual([['Task.contained[0]', 'org-1']]);
});

test('invariants that hold without their element are still judged where it is there (eld-8: pattern or fixed, not both)', () => {
  const definition = (element: Record<string, unknown>) =>
    ({
      resourceType: 'StructureDefinition',
      url: 'http://example.org/StructureDefinition/p',
      name: 'P',
      status: 'draft',
      kind: 'resource',
      abstract: false,
      type: 'Patient',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
      derivation: 'constraint',
      differential: { element: [{ id: 'Patient.gender', path: 'Patient.gender', ...element }] },
    }) as Resource;
  expect(invariantIssues(definition({ patternCode: 'male' })).filter((i) => i.diagnostics?.includes('eld-8'))).toEqual([]);
  expect(invariantIssues(definition({ patternCode: 'male', fixedCode: 'male' })).map((i) => [i.expression, i.diagnostics?.slice(0, 26)])).toContainEqual([
    ['StructureDefinition.differential.element[0]'],
    'Constraint failed: eld-8: ',
  ]);
});
