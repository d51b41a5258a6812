import { FhirError } from '../fhir/operation-outcome.js';
import { assertSearchWithinLimits, SEARCH_LIMITS } from './search-limits.js';

function refusalOf(query: Array<[string, string]>) {
  try {
    assertSearchWithinLimits(query);
  } catch (error) {
    if (!(error instanceof FhirError)) throw error;
    return { status: error.status, code: error.issues[0]!.code, diagnostics: error.issues[0]!.diagnostics, expression: error.issues[0]!.expression };
  }
  return undefined;
}

test('an ordinary search passes', () => {
  expect(refusalOf([['name', 'hansen,olsen'], ['active', 'true'], ['_count', '50'], ['_include', 'PractitionerRole:practitioner']])).toBeUndefined();
  expect(refusalOf([['name', Array.from({ length: SEARCH_LIMITS.maxValuesPerParameter }, () => 'a').join(',')]])).toBeUndefined();
});

test('more parameters than the limit are refused before any is read', () => {
  const query = Array.from({ length: SEARCH_LIMITS.maxParameters + 1 }, (_, i): [string, string] => [`p${i}`, '1']);
  expect(refusalOf(query)).toMatchObject({ status: 400, code: 'too-costly', diagnostics: `search parameter limit: at most ${SEARCH_LIMITS.maxParameters} parameters in one search` });
});

test('more OR values than the limit, in one parameter or in all, are refused naming the parameter', () => {
  const ors = (n: number) => Array.from({ length: n }, () => 'a').join(',');
  expect(refusalOf([['name', ors(65_536)]])).toMatchObject({
    status: 400,
    code: 'too-costly',
    diagnostics: `search OR limit: at most ${SEARCH_LIMITS.maxValuesPerParameter} comma-separated values in one parameter (name has 65536)`,
    expression: ['name'],
  });
  const many = Array.from({ length: 11 }, (_, i): [string, string] => [`p${i}`, ors(100)]);
  expect(refusalOf(many)).toMatchObject({ status: 400, diagnostics: expect.stringContaining(`search value limit: at most ${SEARCH_LIMITS.maxValues} values`), expression: ['p10'] });
});

test('NUL characters and lone surrogates in a search name or value are refused with 400', () => {
  expect(refusalOf([['name', 'a\u0000b']])).toMatchObject({ status: 400, code: 'invalid', diagnostics: expect.stringContaining('NUL character'), expression: ['name'] });
  expect(refusalOf([['family', 'a\ud800']])).toMatchObject({ status: 400, diagnostics: expect.stringContaining('lone surrogate'), expression: ['family'] });
  expect(refusalOf([['na\u0000me', 'x']])).toMatchObject({ status: 400, expression: ['"na\\u0000me"'] });
});
