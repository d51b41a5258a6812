import { assertFhirId, couldBeStoredId, isFhirId } from './fhir-id.js';
import { FhirError } from './operation-outcome.js';

test('FHIR ids are 1 to 64 of A-Z, a-z, 0-9, "-" and "."', () => {
  for (const id of ['a', 'Practitioner-1', '3db65b8e-2cbe-458f-b236-f5e614e80c57', 'x'.repeat(64), 'v1.2']) expect(isFhirId(id)).toBe(true);
  for (const id of ['', '../x', 'x'.repeat(65), 'Søren', 'org_1', 'a b', 'a/b', 'a\u0000', '\ud800', 7, undefined, null]) expect(isFhirId(id)).toBe(false);
});

test('a refused id is named with where it was, its length, and the pattern, and cut short', () => {
  let error: unknown;
  try {
    assertFhirId('x'.repeat(1000), 'Patient.id', 'the [id] in the URL');
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(FhirError);
  const [issue] = (error as FhirError).issues;
  expect((error as FhirError).status).toBe(400);
  expect(issue!.expression).toEqual(['Patient.id']);
  expect(issue!.diagnostics).toMatch(/^the \[id\] in the URL "x{64}…" \(1000 characters\) is not a FHIR id: 1 to 64 of/);
  expect(() => assertFhirId(42, 'Patient.contained[0].id')).toThrow('Patient.contained[0].id a number is not a FHIR id');
});

test('an id earlier hubs may have stored is any non-empty, well-formed text without NUL: only lookups of stored rows accept it', () => {
  for (const id of ['bad-id_1', 'a b', 'Søren_1', 'x'.repeat(115), '/foobar==']) expect(couldBeStoredId(id)).toBe(true);
  for (const id of ['', 'a\u0000', '\ud800', 7, undefined]) expect(couldBeStoredId(id)).toBe(false);
});
