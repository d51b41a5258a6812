import { FhirError } from './operation-outcome.js';
import { assertJsonWithinLimits, countJsonValues, JSON_LIMITS, jsonRootName } from './json-limits.js';

/** The refusal of `body`, as status, diagnostics and expression. */
function refusalOf(body: unknown, root = jsonRootName(body)) {
  try {
    assertJsonWithinLimits(body, root);
  } catch (error) {
    if (!(error instanceof FhirError)) throw error;
    const [first] = error.issues;
    return { status: error.status, code: first!.code, diagnostics: first!.diagnostics, expression: first!.expression };
  }
  return undefined;
}

const nested = (depth: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { extension: [value] };
  return value;
};

test('an ordinary resource and a full 5,000-entry Bundle pass', () => {
  expect(refusalOf({ resourceType: 'Patient', name: [{ family: 'Hansen', given: ['Kari'] }], birthDate: '1970-01-01' })).toBeUndefined();
  const entry = { fullUrl: 'urn:uuid:1', resource: { resourceType: 'Practitioner', name: [{ family: 'A' }] }, request: { method: 'POST', url: 'Practitioner' } };
  expect(refusalOf({ resourceType: 'Bundle', type: 'transaction', entry: Array.from({ length: 5000 }, () => entry) })).toBeUndefined();
  // Paired surrogates are ordinary text (an emoji).
  expect(refusalOf({ resourceType: 'Patient', name: [{ family: 'Smile \u{1F600}' }] })).toBeUndefined();
});

test('a million extension items are refused at the first item beyond the array limit', () => {
  const refusal = refusalOf({ resourceType: 'Patient', extension: Array.from({ length: 1_000_000 }, () => ({})) });
  expect(refusal).toMatchObject({ status: 413, code: 'too-costly', expression: [`Patient.extension[${JSON_LIMITS.maxArrayItems}]`] });
  expect(refusal!.diagnostics).toContain('JSON array limit');
  expect(refusal!.diagnostics).toContain(String(JSON_LIMITS.maxArrayItems));
});

test('nesting deeper than the depth limit is refused with the path to where it goes too deep', () => {
  expect(refusalOf({ resourceType: 'Patient', extension: [nested(20)] })).toBeUndefined();
  const refusal = refusalOf({ resourceType: 'Patient', extension: [nested(100_000)] });
  expect(refusal).toMatchObject({ status: 413, code: 'too-costly' });
  expect(refusal!.diagnostics).toContain(`JSON depth limit`);
  expect(refusal!.expression![0]).toMatch(/^Patient\.extension\[0\](\.extension\[0\])+$/);
});

test('a body of more values than the value limit is refused, even when no array is too long', () => {
  const wide = { resourceType: 'Bundle', entry: Array.from({ length: 100 }, () => ({ resource: { resourceType: 'Patient', extension: Array.from({ length: 5000 }, () => 1) } })) };
  const refusal = refusalOf(wide);
  expect(refusal).toMatchObject({ status: 413, code: 'too-costly' });
  expect(refusal!.diagnostics).toContain(`JSON value limit: at most ${JSON_LIMITS.maxValues} values`);
});

test('NUL characters and lone surrogates are refused in strings and in keys, with their element path', () => {
  expect(refusalOf({ resourceType: 'Patient', name: [{ family: 'a\u0000b' }] })).toMatchObject({
    status: 400,
    diagnostics: expect.stringContaining('NUL character'),
    expression: ['Patient.name[0].family'],
  });
  expect(refusalOf(JSON.parse('{"resourceType":"Patient","name":[{"family":"a\\ud800b"}]}'))).toMatchObject({
    status: 400,
    diagnostics: expect.stringContaining('lone surrogate'),
    expression: ['Patient.name[0].family'],
  });
  const badKey = refusalOf(JSON.parse('{"resourceType":"Patient","a\\udc00":1}'));
  expect(badKey).toMatchObject({ status: 400, diagnostics: expect.stringContaining('lone surrogate') });
  // The path shows the key escaped, never the raw character.
  expect(badKey!.expression![0]).toBe('Patient["a\\udc00"]');
  expect(refusalOf(JSON.parse('{"resourceType":"Patient","x\\u0000":1}'))!.expression![0]).toBe('Patient["x\\u0000"]');
});

test('__proto__, constructor and the other keys every object inherits are refused like unknown elements', () => {
  for (const key of ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf']) {
    const body: unknown = JSON.parse(`{"resourceType":"Patient","name":[{"${key}":{"polluted":true}}]}`);
    expect(refusalOf(body)).toMatchObject({ status: 400, code: 'structure', diagnostics: `unknown element "${key}": not a FHIR element`, expression: [`Patient.name[0].${key}`] });
  }
});

test('a body that is no resource (a JSON Patch) is walked from "body"', () => {
  expect(refusalOf([{ op: 'add', path: '/name/0/family', value: 'x\u0000' }])).toMatchObject({ expression: ['body[0].value'] });
});

test('counting values stops at the budget', () => {
  expect(countJsonValues({ a: [1, 2, { b: null }], c: 'x' }, 100)).toBe(7);
  expect(countJsonValues(Array.from({ length: 1_000_000 }, () => ({})), 10)).toBe(11);
  expect(countJsonValues('x', 0)).toBe(1);
});
