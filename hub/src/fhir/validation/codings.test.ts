import type { Resource } from 'fhir/r4.js';
import { loadFhirDefinitions } from '../resource-validator.js';
import { codedValueIssues, codingIssues } from './codings.js';
import { uncheckedCodeIssues, uncheckedCodeOf } from './unchecked-codes.js';

beforeAll(() => loadFhirDefinitions());

const shown = (issues: ReturnType<typeof codingIssues>) => issues.map((i) => [i.severity, i.code, i.expression?.[0], i.diagnostics]);

test('a code FHIR R4 does not define in its own code system is refused at the coding\'s code, in HL7\'s words', () => {
  const contract = {
    resourceType: 'Contract',
    legalState: { coding: [{ system: 'http://hl7.org/fhir/contract-legalstate', code: 'invalid-code-test' }] },
    term: [{ offered: {}, securityLabel: [{ number: [1], classification: { system: 'http://hl7.org/fhir/contract-security-classification', code: 'policy' } }] }],
  } as unknown as Resource;
  expect(shown(codingIssues(contract))).toEqual([
    ['error', 'code-invalid', 'Contract.legalState.coding[0].code', "Unknown code 'invalid-code-test' in the CodeSystem 'http://hl7.org/fhir/contract-legalstate' version '4.0.1'"],
  ]);
});

test('a display that is none of the concept\'s names is a warning; case and spacing do not matter', () => {
  const task = (display: string) =>
    ({ resourceType: 'Task', status: 'requested', intent: 'order', businessStatus: { coding: [{ system: 'http://hl7.org/fhir/task-status', code: 'requested', display }] } }) as unknown as Resource;
  expect(shown(codingIssues(task('Wanted')))).toEqual([
    ['warning', 'invalid', 'Task.businessStatus.coding[0].display', "Wrong Display Name 'Wanted' for http://hl7.org/fhir/task-status#requested. Valid display is 'Requested'"],
  ]);
  expect(codingIssues(task('  requested '))).toEqual([]);
});

test('a SNOMED CT code is reported as not checked, with what a terminology server would be asked', () => {
  const condition = {
    resourceType: 'Condition',
    subject: { reference: 'Patient/p' },
    code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes mellitus type 2' }] },
  } as Resource;
  const issues = codingIssues(condition);
  expect(shown(issues)).toEqual([
    ['information', 'not-supported', 'Condition.code.coding[0]', 'the code "44054006" was not checked against its code system http://snomed.info/sct: this server cannot list that code system\'s codes'],
  ]);
  expect(uncheckedCodeOf(issues[0]!)).toEqual({ path: 'Condition.code.coding[0]', code: '44054006', system: 'http://snomed.info/sct' });
});

test('a coding of another version of an R4 code system, and a quantity\'s UCUM unit, are not checked', () => {
  const observation = {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', version: '2.11', code: 'XYZ' }] },
    valueQuantity: { value: 37.2, unit: 'Cel', system: 'http://unitsofmeasure.org', code: 'Cel' },
  } as Resource;
  expect(codingIssues(observation).map((i) => [i.severity, i.expression?.[0]])).toEqual([
    ['information', 'Observation.code.coding[0]'],
    ['information', 'Observation.value.ofType(Quantity)'],
  ]);
});

test("a ValueSet's listed concepts: an outside system's are not checked, an unknown R4 code is refused", () => {
  const valueSet = {
    resourceType: 'ValueSet',
    status: 'draft',
    compose: {
      include: [
        { system: 'http://snomed.info/sct', concept: [{ code: '1' }] },
        { system: 'http://hl7.org/fhir/task-status', concept: [{ code: 'requested' }, { code: 'bogus' }] },
      ],
    },
  } as Resource;
  expect(codingIssues(valueSet).map((i) => [i.severity, i.expression?.[0]])).toEqual([
    ['information', 'ValueSet.compose.include[0].concept[0]'],
    ['error', 'ValueSet.compose.include[1].concept[1]'],
  ]);
});

test("a supplement's concepts are judged against the code system it supplements", () => {
  const supplement = { resourceType: 'CodeSystem', status: 'draft', content: 'supplement', supplements: 'http://loinc.org|2.70', concept: [{ code: 'test', concept: [{ code: 'inner' }] }] } as Resource;
  expect(codingIssues(supplement).map((i) => [i.severity, i.expression?.[0], uncheckedCodeOf(i)?.version])).toEqual([
    ['information', 'CodeSystem.concept[0]', '2.70'],
    ['information', 'CodeSystem.concept[0].concept[0]', '2.70'],
  ]);
});

test('a coding the required binding could not check either is reported once, by the binding, and kept for a terminology server', () => {
  const synthesis = {
    resourceType: 'RiskEvidenceSynthesis',
    status: 'draft',
    outcome: { reference: 'EvidenceVariable/o' },
    riskEstimate: { unitOfMeasure: { coding: [{ system: 'http://unitsofmeasure.org', code: 'mg' }] } },
  } as unknown as Resource;
  const issues = codedValueIssues(synthesis);
  expect(issues.map((i) => [i.severity, i.expression?.[0]])).toEqual([['information', 'RiskEvidenceSynthesis.riskEstimate.unitOfMeasure.coding[0]']]);
  expect(uncheckedCodeOf(issues[0]!)).toEqual({
    path: 'RiskEvidenceSynthesis.riskEstimate.unitOfMeasure.coding[0]',
    code: 'mg',
    system: 'http://unitsofmeasure.org',
    valueSet: 'http://hl7.org/fhir/ValueSet/ucum-units|4.0.1',
  });
  expect(uncheckedCodeIssues(synthesis)).toEqual(issues);
  expect(uncheckedCodeIssues({ ...synthesis })).toBeUndefined();
});

test("the hub's own owner tag (an Organization id under a code system that lists no codes) is neither refused nor reported as not checked", () => {
  const organization = { resourceType: 'Organization', name: 'Fjell legekontor', meta: { tag: [{ system: 'http://carehub.example.org/fhir/CodeSystem/owner', code: 'org-1' }] } } as Resource;
  expect(codedValueIssues(organization)).toEqual([]);
});
