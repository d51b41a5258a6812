import { diagnoseJsonSyntax, jsonSyntaxIssues } from './json-syntax.js';

const shown = (text: string) => diagnoseJsonSyntax(text).map(({ message, line, column, path }) => `${line}:${column} ${path}: ${message}`);

test('missing and extra commas are reported at the element they are in, with line and column, and reading goes on past them', () => {
  const text = ['{', '  "resourceType": "Patient",', '  "name": [{ "family": "Simmons"', '    "given": ["Sarah",] }],', '  "address": [{ "city": "Strahan", }]', '}'].join('\n');
  expect(() => JSON.parse(text)).toThrow();
  expect(shown(text)).toEqual([
    '4:5 Patient.name[0]: A Comma is missing in the JSON',
    '4:22 Patient.name[0].given: There is an extra comma at the end of the Array in the JSON',
    '5:34 Patient.address[0]: There is an extra comma at the end of the Object in the JSON',
  ]);
});

test('a comment is reported at the property that follows it, and one before the resource at the resource', () => {
  const text = '// a comment\n{ "resourceType": "Patient",\n  /* another */ "gender": "female" }';
  expect(shown(text)).toEqual(['1:1 Patient: Comments are not allowed in JSON', '3:3 Patient.gender: Comments are not allowed in JSON']);
});

test('an unclosed resource, a bare word and text after the end each say so; the issues carry expression and location', () => {
  expect(shown('{ "resourceType": "Patient", "active": yes')).toEqual([
    "1:40 Patient.active: 'yes' is not a JSON value (strings need quotes)",
    '1:43 Patient: The Object is not closed with }',
  ]);
  expect(shown('{ "resourceType": "Patient" } x')).toEqual(['1:31 Patient: There is more text after the end of the JSON']);
  expect(jsonSyntaxIssues('{ "resourceType": "Patient", }', 'Unexpected token')).toEqual([
    {
      severity: 'error',
      code: 'structure',
      diagnostics: 'the body is not valid JSON: line 1, column 28: There is an extra comma at the end of the Object in the JSON',
      expression: ['Patient'],
      location: ['line 1, column 28'],
    },
  ]);
});

test('a pathological text gets at most 20 problems', () => {
  expect(diagnoseJsonSyntax(`[${',,'.repeat(10_000)}]`)).toHaveLength(20);
});

test('a body that is JSON but neither an object nor an array is placed at its first character; one nested too deep stops at the limit', () => {
  expect(shown('\n  "Patient"')).toEqual(['2:3 Resource: The body must be a JSON object (a FHIR resource) or an array (a JSON Patch)']);
  const deep = `${'['.repeat(100_000)}${']'.repeat(99_999)}`;
  expect(shown(deep)).toEqual(['1:65 Resource[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: objects and arrays nested more than 64 levels deep (this server\'s limit)']);
});

test("when the reader finds nothing the parser refused, the parser's message is given, placed by its position", () => {
  expect(jsonSyntaxIssues('{"a": 1}', 'Unexpected token \'x\', "{"a": 1}x" is not valid JSON')).toEqual([
    { severity: 'error', code: 'structure', diagnostics: "the body is not valid JSON: Unexpected token 'x'" },
  ]);
  expect(jsonSyntaxIssues('{\n"a": 1}', 'Bad thing in JSON at position 3 (line 2 column 2)')[0]).toMatchObject({ location: ['line 2, column 2'] });
});
