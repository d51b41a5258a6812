import type { Operation } from 'fast-json-patch';
import type { Patient } from 'fhir/r4.js';
import { applyJsonPatchWithinLimits } from './json-patch-limits.js';
import { FhirError } from './operation-outcome.js';

const patient = (): Patient => ({ resourceType: 'Patient', id: 'p', extension: [{ url: 'http://example.org/x', valueString: 'aaaaaaaaaa' }] });

test('an ordinary patch is applied', () => {
  const patched = applyJsonPatchWithinLimits(patient(), [
    { op: 'add', path: '/active', value: true },
    { op: 'copy', from: '/extension/0', path: '/extension/-' },
  ]) as Patient;
  expect(patched.active).toBe(true);
  expect(patched.extension).toHaveLength(2);
});

test('a patch whose copies double the resource past the value limit is refused before it is built', () => {
  const doubling: Operation[] = Array.from({ length: 40 }, () => ({ op: 'copy', from: '/extension', path: '/extension/-' }));
  let refusal: unknown;
  try {
    applyJsonPatchWithinLimits(patient(), doubling);
  } catch (error) {
    refusal = error;
  }
  expect(refusal).toBeInstanceOf(FhirError);
  expect((refusal as FhirError).status).toBe(413);
  expect((refusal as FhirError).issues[0]!.diagnostics).toMatch(/^JSON value limit: the patched resource would have more than 200000 values \(at operation 1\d, copy\)$/);
});

test('an operation that cannot be applied is refused as fast-json-patch refuses it', () => {
  expect(() => applyJsonPatchWithinLimits(patient(), [{ op: 'replace', path: '/nothing/there', value: 1 }])).toThrow(/Cannot perform the operation at a path that does not exist/);
});
