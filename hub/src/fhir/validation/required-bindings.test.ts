import type { Resource } from 'fhir/r4.js';
import { loadFhirDefinitions } from '../resource-validator.js';
import { requiredBindingIssues } from './required-bindings.js';

beforeAll(() => loadFhirDefinitions());

test('a Task whose status is not a FHIR task status is refused at Task.status', () => {
  const issues = requiredBindingIssues({ resourceType: 'Task', status: 'bogus', intent: 'order' } as unknown as Resource);
  expect(issues.map((i) => [i.severity, i.expression, i.diagnostics])).toEqual([
    ['error', ['Task.status'], 'the code "bogus" is not in the value set TaskStatus (http://hl7.org/fhir/ValueSet/task-status), which Task.status must take its codes from (required binding)'],
  ]);
  expect(requiredBindingIssues({ resourceType: 'Task', status: 'requested', intent: 'order' } as Resource)).toEqual([]);
});

test('codes in contained resources and in codings are checked too', () => {
  const task = {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    contained: [{ resourceType: 'Patient', id: 'p', gender: 'x' }],
  } as unknown as Resource;
  expect(requiredBindingIssues(task).map((i) => i.expression)).toEqual([['Task.contained[0].gender']]);
});

test('a code from a system the server cannot list is reported as not checked, never as valid', () => {
  const media = { resourceType: 'Media', status: 'completed', content: { contentType: 'application/pdf' } } as Resource;
  const [issue, ...rest] = requiredBindingIssues(media);
  expect(rest).toEqual([]);
  expect(issue).toMatchObject({ severity: 'information', expression: ['Media.content.contentType'] });
  expect(issue!.diagnostics).toMatch(/"application\/pdf" was not checked against the value set http:\/\/hl7.org\/fhir\/ValueSet\/mimetypes/);
});
