import { parseIncomingResource } from './incoming-resource.js';
import { FhirError } from './operation-outcome.js';
import { MAX_REPORTED_ISSUES, Validator } from './resource-validator.js';

const validator = new Validator();

function refusalOf(body: unknown): FhirError {
  try {
    parseIncomingResource(validator, body);
  } catch (error) {
    if (error instanceof FhirError) return error;
    throw error;
  }
  throw new Error('the resource was accepted');
}

test('a resource id or contained id that is no FHIR id is refused with its element path', () => {
  expect(refusalOf({ resourceType: 'Patient', id: '../x' }).issues[0]).toMatchObject({ expression: ['Patient.id'] });
  expect(refusalOf({ resourceType: 'Patient', id: 'x'.repeat(65) }).status).toBe(400);
  expect(refusalOf({ resourceType: 'Patient', id: 'Søren' }).status).toBe(400);
  const contained = refusalOf({ resourceType: 'Patient', contained: [{ resourceType: 'Organization', id: 'org_1' }] });
  expect(contained).toMatchObject({ status: 400 });
  expect(contained.issues[0]).toMatchObject({ expression: ['Patient.contained[0].id'], diagnostics: expect.stringContaining('"org_1"') });
});

test('__proto__ and constructor are refused like the unknown element foo', () => {
  // The validator names the unknown element and, as HL7 does, the element that holds it.
  expect(refusalOf({ resourceType: 'Patient', foo: 1 }).issues[0]).toMatchObject({ expression: ['Patient.foo', 'Patient'] });
  expect(refusalOf(JSON.parse('{"resourceType":"Patient","__proto__":{"x":1}}')).issues[0]).toMatchObject({ code: 'structure', expression: ['Patient.__proto__'] });
  expect(refusalOf(JSON.parse('{"resourceType":"Patient","constructor":1}')).issues[0]).toMatchObject({ code: 'structure', expression: ['Patient.constructor'] });
});

test('validation answers with at most 100 issues and says how many more there were', () => {
  const error = refusalOf({ resourceType: 'Patient', extension: Array.from({ length: 5000 }, () => ({})) });
  expect(error.status).toBe(400);
  expect(error.issues).toHaveLength(MAX_REPORTED_ISSUES + 1);
  const last = error.issues.at(-1)!;
  expect(last).toMatchObject({ severity: 'information' });
  expect(last.diagnostics).toMatch(/^\d+ more issues not shown \(\d+ in total; at most 100 are listed\)$/);
});
