import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AllergyIntolerance, Resource, Task } from 'fhir/r4.js';
import { knownExtensions, readExtensionDefinitionFiles } from './extension-definitions.js';
import { extensionIssues } from './extensions.js';

const known = knownExtensions();

test('an unknown modifierExtension is refused, and so is an unknown extension', () => {
  const patient = {
    resourceType: 'Patient',
    modifierExtension: [{ url: 'http://extensions.carehub.test/not-really-a-patient', valueBoolean: true }],
    extension: [{ url: 'http://extensions.carehub.test/favourite-colour', valueString: 'blue' }],
  } as Resource;
  const issues = extensionIssues(patient, known);
  expect(issues.map((i) => [i.severity, i.expression])).toEqual([
    ['error', ['Patient.modifierExtension[0]']],
    ['error', ['Patient.extension[0]']],
  ]);
  expect(issues[0]!.diagnostics).toMatch(/modifier extension http:\/\/extensions.carehub.test\/not-really-a-patient is unknown/);
  expect(issues[1]!.diagnostics).toMatch(/favourite-colour could not be found so is not allowed here/);
});

test("an unknown extension from a namespace the operator allows passes with a warning; an unknown modifierExtension from it does not", () => {
  const allowing = knownExtensions([], { allowUnknownFrom: ['http://fhir.de/StructureDefinition/'] });
  const patient = {
    resourceType: 'Patient',
    extension: [{ url: 'http://fhir.de/StructureDefinition/gender-amtlich-de', valueCoding: { code: 'D' } }],
    modifierExtension: [{ url: 'http://fhir.de/StructureDefinition/unknown-modifier', valueBoolean: true }],
  } as Resource;
  expect(extensionIssues(patient, allowing).map((i) => [i.severity, i.expression])).toEqual([
    ['warning', ['Patient.extension[0]']],
    ['error', ['Patient.modifierExtension[0]']],
  ]);
});

test("an extension the operator loaded is known; CareHub's own are known, their sub-extensions named relatively", () => {
  const definition = {
    resourceType: 'StructureDefinition' as const,
    url: 'http://fhir.de/StructureDefinition/gender-amtlich-de',
    type: 'Extension',
    status: 'active' as const,
    name: 'GenderAmtlichDe',
    kind: 'complex-type' as const,
    abstract: false,
    snapshot: { element: [{ id: 'Extension.value[x]', path: 'Extension.value[x]', type: [{ code: 'Coding' }] }] },
  };
  const patient = { resourceType: 'Patient', extension: [{ url: definition.url, valueCoding: { code: 'D' } }] } as Resource;
  expect(extensionIssues(patient, knownExtensions([definition]))).toEqual([]);
  const task: Task = {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    extension: [{ url: 'http://carehub.example.org/fhir/StructureDefinition/matrix-delivery', extension: [{ url: 'room', valueString: '!r:hub' }, { url: 'event', valueString: '$e' }] }],
  };
  expect(extensionIssues(task, known)).toEqual([]);
});

test('a core extension with a value of the wrong type is refused, naming the allowed type', () => {
  const allergy: AllergyIntolerance = {
    resourceType: 'AllergyIntolerance',
    patient: { reference: 'Patient/1' },
    extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/narrativeLink', valueUri: '#a1' }],
  };
  const issues = extensionIssues(allergy, known);
  expect(issues.map((i) => [i.expression, i.diagnostics])).toEqual([
    [['AllergyIntolerance.extension[0]'], 'the extension http://hl7.org/fhir/StructureDefinition/narrativeLink takes a value of type url, not uri (valueUri)'],
  ]);
  allergy.extension![0] = { url: 'http://hl7.org/fhir/StructureDefinition/narrativeLink', valueUrl: '#a1' };
  expect(extensionIssues(allergy, known)).toEqual([]);
});

test("a core extension's primitive value types are named as FHIR names them (valueDateTime is a dateTime), and its path as HL7 writes it", () => {
  const patient = { resourceType: 'Patient', birthDate: '2000-01-01', _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '2000-01-01T10:00:00Z' }] } } as Resource;
  expect(extensionIssues(patient, known)).toEqual([]);
  const wrong = { resourceType: 'Patient', birthDate: '2000-01-01', _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDate: '2000-01-01' }] } } as Resource;
  expect(extensionIssues(wrong, known).map((i) => i.expression)).toEqual([['Patient.birthDate.extension[0]']]);
});

test("HL7's validator's leniency is kept: an unknown extension under an example domain passes with a warning; a versioned url is refused", () => {
  const patient = {
    resourceType: 'Patient',
    extension: [
      { url: 'http://example.org/fhir/StructureDefinition/shoe-size', valueInteger: 42 },
      { url: 'http://hl7.org/fhir/StructureDefinition/patient-congregation|4.0.0', valueString: 'St Mary' },
    ],
  } as Resource;
  expect(extensionIssues(patient, known).map((i) => [i.severity, i.expression])).toEqual([
    ['warning', ['Patient.extension[0]']],
    ['error', ['Patient.extension[1].url']],
  ]);
});

test('an operator loads extension definitions from files or folders, single or as a Bundle; a file without one is an error', () => {
  const folder = mkdtempSync(join(tmpdir(), 'carehub-extensions-'));
  const definition = { resourceType: 'StructureDefinition', url: 'http://fhir.de/StructureDefinition/a', type: 'Extension', snapshot: { element: [{ id: 'Extension.value[x]', path: 'Extension.value[x]', type: [{ code: 'string' }] }] } };
  writeFileSync(join(folder, 'a.json'), JSON.stringify(definition));
  writeFileSync(join(folder, 'b.json'), JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { ...definition, url: 'http://fhir.de/StructureDefinition/b' } }] }));
  const loaded = knownExtensions(readExtensionDefinitionFiles([folder]));
  expect(loaded.definitions.get('http://fhir.de/StructureDefinition/b')?.valueTypes).toEqual(['string']);
  const patient = { resourceType: 'Patient', extension: [{ url: 'http://fhir.de/StructureDefinition/a', valueInteger: 1 }] } as Resource;
  expect(extensionIssues(patient, loaded).map((i) => i.diagnostics)).toEqual(['the extension http://fhir.de/StructureDefinition/a takes a value of type string, not integer (valueInteger)']);
  const empty = join(folder, 'c.json');
  writeFileSync(empty, JSON.stringify({ resourceType: 'Patient' }));
  expect(() => readExtensionDefinitionFiles([empty])).toThrow('holds no Extension StructureDefinition');
});
