import type { Bundle, Patient, Resource } from 'fhir/r4.js';
import { loadFhirDefinitions } from '../resource-validator.js';
import { referenceTargetIssues } from './reference-targets.js';

beforeAll(() => loadFhirDefinitions());

const shown = (resource: Resource) => referenceTargetIssues(resource).map((i) => `${i.expression!.join()}: ${i.diagnostics}`);

test('a reference to a type its element does not allow is an error naming the allowed types; relative, absolute and versioned forms alike', () => {
  const patient: Patient = {
    resourceType: 'Patient',
    managingOrganization: { reference: 'Patient/1' },
    generalPractitioner: [{ reference: 'https://other.example.org/fhir/Observation/7/_history/2' }, { reference: 'PractitionerRole/gp-1' }],
  };
  expect(shown(patient)).toEqual([
    "Patient.managingOrganization: The type 'Patient' implied by the reference Patient/1 is not a valid target for Patient.managingOrganization (must be one of Organization)",
    "Patient.generalPractitioner[0]: The type 'Observation' implied by the reference https://other.example.org/fhir/Observation/7/_history/2 is not a valid target for Patient.generalPractitioner (must be one of Organization, Practitioner, PractitionerRole)",
  ]);
});

test('contained and Bundle references are judged by the resource they name; a type that contradicts the reference is refused', () => {
  const patient = {
    resourceType: 'Patient',
    contained: [{ resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' } }],
    managingOrganization: { reference: '#o1' },
    generalPractitioner: [{ reference: 'Practitioner/1', type: 'Organization' }],
  } as unknown as Patient;
  expect(shown(patient).map((line) => line.split(':')[0])).toEqual(['Patient.managingOrganization', 'Patient.generalPractitioner[0]']);
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:7b0e3c7e-58c4-4d0b-8e63-5d0b3c1b9a10', resource: { resourceType: 'Organization', name: 'Practice' } as Resource, request: { method: 'POST', url: 'Organization' } },
      { fullUrl: 'urn:uuid:0c1f1c2e-7d2a-4c55-9a63-2f7e9f3f1b22', resource: { resourceType: 'Patient', managingOrganization: { reference: 'urn:uuid:7b0e3c7e-58c4-4d0b-8e63-5d0b3c1b9a10' } } as Patient, request: { method: 'POST', url: 'Patient' } },
      { resource: { resourceType: 'Patient', managingOrganization: { reference: 'urn:uuid:0c1f1c2e-7d2a-4c55-9a63-2f7e9f3f1b22' } } as Patient, request: { method: 'POST', url: 'Patient' } },
    ],
  };
  expect(shown(bundle).map((line) => line.split(':')[0])).toEqual(['Bundle.entry[2].resource.managingOrganization']);
});

test('references whose type cannot be told, and elements that take any resource, are left alone', () => {
  const task = {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    focus: { reference: 'ServiceRequest/1' },
    owner: { reference: 'urn:uuid:4f7e1d2c-1b2a-4c3d-8e9f-0a1b2c3d4e5f' },
    requester: { identifier: { value: 'x' } },
  } as Resource;
  expect(shown(task)).toEqual([]);
});
