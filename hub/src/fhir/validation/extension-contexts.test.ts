import type { Patient, Questionnaire } from 'fhir/r4.js';
import { loadFhirDefinitions } from '../resource-validator.js';
import { extensionContextIssues } from './extension-contexts.js';
import { knownExtensions } from './extension-definitions.js';

const known = knownExtensions();
beforeAll(() => loadFhirDefinitions());

const MOTHERS_FAMILY = 'http://hl7.org/fhir/StructureDefinition/humanname-mothers-family';

test("humanname-mothers-family belongs on HumanName.family: on the name itself it is refused, naming where it may go", () => {
  const patient: Patient = { resourceType: 'Patient', name: [{ family: 'García', extension: [{ url: MOTHERS_FAMILY, valueString: 'Lorca' }] }] };
  const issues = extensionContextIssues(patient, known);
  expect(issues.map((i) => i.expression)).toEqual([['Patient.name[0]']]);
  expect(issues[0]!.diagnostics).toMatch(/not allowed to be used at this point .*allowed: HumanName\.family/);
  const onFamily = { resourceType: 'Patient', name: [{ family: 'García', _family: { extension: [{ url: MOTHERS_FAMILY, valueString: 'Lorca' }] } }] } as Patient;
  expect(extensionContextIssues(onFamily, known)).toEqual([]);
});

test('contexts naming a resource, an element path or a general type admit what they name', () => {
  const patient = {
    resourceType: 'Patient',
    extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { city: 'Aarhus' } }],
    birthDate: '2000-01-01',
    _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '2000-01-01T10:00:00Z' }] },
  } as Patient;
  expect(extensionContextIssues(patient, known)).toEqual([]);
  const questionnaire: Questionnaire = {
    resourceType: 'Questionnaire',
    status: 'active',
    item: [{ linkId: '1', type: 'group', item: [{ linkId: '1.1', type: 'string', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/questionnaire-hidden', valueBoolean: true }] }] }],
  };
  expect(extensionContextIssues(questionnaire, known)).toEqual([]);
  const misplaced = { ...patient, extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/questionnaire-hidden', valueBoolean: true }] } as Patient;
  expect(extensionContextIssues(misplaced, known).map((i) => i.expression)).toEqual([['Patient']]);
});
