import type { Resource } from 'fhir/r4.js';
import { emptyValueIssues } from './empty-values.js';

test('an empty coding array and an empty object are refused where they are', () => {
  const document = { resourceType: 'DocumentReference', status: 'current', category: [{ coding: [] }], subject: {}, content: [{ attachment: { url: 'x' } }] } as Resource;
  expect(emptyValueIssues(document).map((i) => [i.expression, i.diagnostics])).toEqual([
    [['DocumentReference.category[0].coding'], 'DocumentReference.category[0].coding is an empty array: leave the element out if it has no values'],
    [['DocumentReference.subject'], 'DocumentReference.subject is an empty object: leave the element out if it has no content'],
  ]);
});

test('a resource without empty values passes, primitive extension arrays with nulls too', () => {
  expect(emptyValueIssues({ resourceType: 'Patient', name: [{ given: ['A', 'B'], _given: [null, { extension: [{ url: 'u', valueString: 'x' }] }] }] } as Resource)).toEqual([]);
});
