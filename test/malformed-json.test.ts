import type { OperationOutcome } from 'fhir/r4.js';
import { startApiHub, type ApiHub } from './support/api-hub.js';

// An integrator whose system sends broken JSON is told the line and column to look at, and the
// element it is in, whichever endpoint took the body.
let api: ApiHub;

beforeAll(async () => {
  api = await startApiHub();
});

afterAll(async () => {
  await api.stop();
});

async function send(method: string, path: string, body: string): Promise<{ status: number; outcome: OperationOutcome }> {
  const response = await fetch(`${api.baseUrl}/fhir/${path}`, { method, headers: { 'content-type': 'application/fhir+json' }, body });
  return { status: response.status, outcome: (await response.json()) as OperationOutcome };
}

/** A Patient as an editor shows it, with the comma after `"active": true` (line 3) missing. */
const missingComma = ['{', '  "resourceType": "Patient",', '  "active": true', '  "gender": "female"', '}'].join('\n');

test.each([
  { name: 'a create', method: 'POST', path: 'Patient', body: missingComma },
  { name: 'an update', method: 'PUT', path: 'Patient/p-1', body: missingComma },
  { name: 'a type-level $validate', method: 'POST', path: 'Patient/$validate', body: missingComma },
  { name: 'a system-level $validate', method: 'POST', path: '$validate', body: missingComma },
])('$name with a missing comma is refused with 400 at line 4, column 3', async ({ method, path, body }) => {
  const { status, outcome } = await send(method, path, body);
  expect(status).toBe(400);
  expect(outcome.issue).toEqual([
    {
      severity: 'error',
      code: 'structure',
      diagnostics: 'the body is not valid JSON: line 4, column 3: A Comma is missing in the JSON',
      expression: ['Patient'],
      location: ['line 4, column 3'],
    },
  ]);
});

test('a transaction Bundle with a stray comma in entry 2 is placed where the comma is', async () => {
  const bundle = ['{"resourceType": "Bundle", "type": "transaction", "entry": [', '  {"request": {"method": "GET", "url": "Patient"}},', '  ,', ']}'].join('\n');
  const { status, outcome } = await send('POST', '', bundle);
  expect(status).toBe(400);
  expect(outcome.issue[0]).toMatchObject({ diagnostics: 'the body is not valid JSON: line 3, column 3: There is an extra comma in the Array in the JSON', expression: ['Bundle.entry'], location: ['line 3, column 3'] });
});

test('a body that ends too early says where its unclosed string starts', async () => {
  const { status, outcome } = await send('POST', 'Patient', '{\n  "resourceType": "Patient",\n  "name": [{"family": "Ol');
  expect(status).toBe(400);
  expect(outcome.issue[0]).toMatchObject({ location: ['line 3, column 23'], expression: ['Patient.name[0].family'] });
  expect(outcome.issue[0]!.diagnostics).toBe('the body is not valid JSON: line 3, column 23: A string is not closed with "');
});

test('a body that is a JSON string rather than a resource is placed at its first character', async () => {
  const { status, outcome } = await send('POST', 'Patient', '\n  "Patient"');
  expect(status).toBe(400);
  expect(outcome.issue[0]!.location).toEqual(['line 2, column 3']);
});
