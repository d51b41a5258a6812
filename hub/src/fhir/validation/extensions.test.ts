import type { AllergyIntolerance, Resource } from 'fhir/r4.js';
import { extensionIssues } from './extensions.js';

test('an unknown modifierExtension is refused; an unknown extension is let through', () => {
  const patient = {
    resourceType: 'Patient',
    modifierExtension: [{ url: 'http://example.org/not-really-a-patient', valueBoolean: true }],
    extension: [{ url: 'http://example.org/favourite-colour', valueString: 'blue' }],
  } as Resource;
  const issues = extensionIssues(patient);
  expect(issues.map((i) => i.expression)).toEqual([['Patient.modifierExtension[0]']]);
  expect(issues[0]!.diagnostics).toMatch(/modifier extension http:\/\/example.org\/not-really-a-patient is unknown/);
});

test('a core extension with a value of the wrong type is refused, naming the allowed type', () => {
  const allergy: AllergyIntolerance = {
    resourceType: 'AllergyIntolerance',
    patient: { reference: 'Patient/1' },
    extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/narrativeLink', valueUri: '#a1' }],
  };
  const issues = extensionIssues(allergy);
  expect(issues.map((i) => [i.expression, i.diagnostics])).toEqual([
    [['AllergyIntolerance.extension[0]'], 'the extension http://hl7.org/fhir/StructureDefinition/narrativeLink takes a value of type url, not uri (valueUri)'],
  ]);
  allergy.extension![0] = { url: 'http://hl7.org/fhir/StructureDefinition/narrativeLink', valueUrl: '#a1' };
  expect(extensionIssues(allergy)).toEqual([]);
});

test("a core extension's primitive value types are named as FHIR names them (valueDateTime is a dateTime)", () => {
  const patient = { resourceType: 'Patient', birthDate: '2000-01-01', _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '2000-01-01T10:00:00Z' }] } } as Resource;
  expect(extensionIssues(patient)).toEqual([]);
});
