import type { Resource } from 'fhir/r4.js';
import { containedReferenceIssues } from './contained-references.js';

test('a #reference resolves to a contained resource; a dangling one is refused at its reference', () => {
  const task = {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    contained: [{ resourceType: 'Patient', id: 'p1', link: [{ other: { reference: '#' }, type: 'seealso' }] }],
    for: { reference: '#p1' },
    owner: { reference: '#nobody' },
  } as Resource;
  const issues = containedReferenceIssues(task);
  expect(issues.map((i) => i.expression)).toEqual([['Task.owner.reference']]);
  expect(issues[0]!.diagnostics).toBe('the reference "#nobody" names no contained resource: Task contains no resource with id "nobody"');
});

test("a Bundle entry's #reference resolves within that entry, not the Bundle", () => {
  const bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { resource: { resourceType: 'Observation', contained: [{ resourceType: 'Patient', id: 'p' }], subject: { reference: '#p' } } },
      { resource: { resourceType: 'Observation', subject: { reference: '#p' } } },
    ],
  } as Resource;
  expect(containedReferenceIssues(bundle).map((i) => i.expression)).toEqual([['Bundle.entry[1].resource.subject.reference']]);
});
