import type { DocumentReference, Patient, Task } from 'fhir/r4.js';
import { referencesIn } from './resource-references.js';

describe('what a write points at', () => {
  test('every relative reference, wherever it stands, with its element path', () => {
    const task: Task = {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      focus: { reference: 'ServiceRequest/sr-1' },
      input: [{ type: { text: 'letter' }, valueReference: { reference: 'DocumentReference/doc-1' } }],
      owner: { reference: 'https://elsewhere.example.org/fhir/PractitionerRole/x' },
      note: [{ authorReference: { reference: '#contained' }, text: 'n' }],
    };
    expect(referencesIn(task)).toEqual([
      { type: 'ServiceRequest', id: 'sr-1', path: 'Task.focus.reference' },
      { type: 'DocumentReference', id: 'doc-1', path: 'Task.input[0].valueReference.reference' },
    ]);
  });

  test("a document's attachments name Binaries by url", () => {
    const document: DocumentReference = {
      resourceType: 'DocumentReference',
      status: 'current',
      content: [{ attachment: { url: 'Binary/b-1' } }, { attachment: { url: 'http://hub.example.org/fhir/Binary/b-2/_history/3' } }, { attachment: { url: 'https://elsewhere.example.org/x.pdf' } }],
    };
    expect(referencesIn(document).map((r) => `${r.type}/${r.id} at ${r.path}`)).toEqual([
      'Binary/b-1 at DocumentReference.content[0].attachment.url',
      'Binary/b-2 at DocumentReference.content[1].attachment.url',
    ]);
  });

  test('meta is not a reference to follow', () => {
    const patient: Patient = { resourceType: 'Patient', meta: { source: 'x' }, managingOrganization: { reference: 'Organization/o' } };
    expect(referencesIn(patient)).toEqual([
      { type: 'Organization', id: 'o', path: 'Patient.managingOrganization.reference' },
    ]);
  });
});
