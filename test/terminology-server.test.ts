import nock from 'nock';
import type { Bundle, OperationOutcomeIssue, Organization, Parameters } from 'fhir/r4.js';
import { createLogger, type RunningHub, startHub } from '@carehub/hub';
import { createTestDatabase, createTestHubConfig } from './support/test-stack.js';

// The hub's API with a terminology server configured; the server is an outside system, so nock
// plays it. Everything else is the real stack.
const TX = 'https://tx.example.org';
const SNOMED = 'http://snomed.info/sct';

let hub: RunningHub;
let dropDatabase: () => Promise<void>;

beforeAll(async () => {
  const database = await createTestDatabase();
  dropDatabase = database.drop;
  const { config } = await createTestHubConfig(database.url, { roles: ['api'], validation: { terminologyServer: { url: `${TX}/fhir`, timeoutMs: 500 } } });
  hub = await startHub(config, createLogger('silent'));
  // Only the terminology server is played; the hub, its database and homeserver are real.
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
});

afterEach(() => nock.cleanAll());

afterAll(async () => {
  // nock patches fetch for the whole Jest worker: later test files must get the real one back.
  nock.enableNetConnect();
  nock.restore();
  await hub.stop();
  await dropDatabase();
});

const practice = (code: string): Organization => ({
  resourceType: 'Organization',
  name: 'Hausarztpraxis am Markt',
  type: [{ coding: [{ system: SNOMED, code, display: 'General practice premises' }] }],
});

const verdict = (result: boolean, message?: string): Parameters => ({
  resourceType: 'Parameters',
  parameter: [{ name: 'result', valueBoolean: result }, ...(message ? [{ name: 'message', valueString: message }] : [])],
});

function answersFor(code: string) {
  return nock(TX).get('/fhir/CodeSystem/$validate-code').query({ url: SNOMED, code });
}

async function post(path: string, body: unknown) {
  const response = await fetch(`${hub.baseUrl}/fhir/${path}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
  // An OperationOutcome, or the created resource (its id).
  return { status: response.status, body: (await response.json()) as { issue: OperationOutcomeIssue[]; id?: string } };
}

async function storedOrganizations(): Promise<number> {
  const { rows } = await hub.db.query<{ count: string }>("SELECT count(*) FROM resources WHERE resource_type = 'Organization'");
  return Number(rows[0]!.count);
}

test('an integrator posts a practice with a SNOMED CT code the terminology server calls invalid: 400, at the coding, nothing stored', async () => {
  const asked = answersFor('1').reply(200, verdict(false, "Unknown code '1' in the CodeSystem 'http://snomed.info/sct'"));
  const before = await storedOrganizations();
  const { status, body } = await post('Organization', practice('1'));
  expect(asked.isDone()).toBe(true);
  expect(status).toBe(400);
  expect(body.issue).toEqual([
    { severity: 'error', code: 'code-invalid', diagnostics: "Unknown code '1' in the CodeSystem 'http://snomed.info/sct'", expression: ['Organization.type[0].coding[0]'] },
  ]);
  expect(await storedOrganizations()).toBe(before);
});

test('$validate of a practice whose code the server knows answers valid, with no "not checked" left', async () => {
  answersFor('264358009').reply(200, verdict(true));
  const { status, body } = await post('Organization/$validate', practice('264358009'));
  expect(status).toBe(200);
  expect(body.issue).toEqual([{ severity: 'information', code: 'informational', diagnostics: 'the Organization is valid' }]);
});

test('while the terminology server is down, the practice is stored and its code reported as not checked', async () => {
  answersFor('394761003').times(2).replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
  const created = await post('Organization', practice('394761003'));
  expect(created.status).toBe(201);
  expect(created.body.id).toBeDefined();
  const validated = await post('$validate', practice('394761003'));
  expect(validated.body.issue.map((i) => [i.severity, i.code, i.expression?.[0]])).toEqual([
    ['information', 'informational', undefined],
    ['information', 'not-supported', 'Organization.type[0].coding[0]'],
  ]);
  expect(validated.body.issue[1]!.diagnostics).toMatch(/was not checked against its code system http:\/\/snomed\.info\/sct.*the terminology server https:\/\/tx\.example\.org\/fhir could not be asked/);
});

test('a transaction with an entry the server calls invalid is refused as a whole, naming the entry', async () => {
  answersFor('2').reply(200, verdict(false, "Unknown code '2'"));
  answersFor('264358009').reply(200, verdict(true));
  const before = await storedOrganizations();
  const transaction: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:3c6f1a52-0d0e-4f6b-9d35-1f1c7f0e4a01', resource: practice('264358009'), request: { method: 'POST', url: 'Organization' } },
      { fullUrl: 'urn:uuid:3c6f1a52-0d0e-4f6b-9d35-1f1c7f0e4a02', resource: practice('2'), request: { method: 'POST', url: 'Organization' } },
    ],
  };
  const { status, body } = await post('', transaction);
  expect(status).toBe(400);
  expect(body.issue).toEqual([{ severity: 'error', code: 'code-invalid', diagnostics: "Bundle.entry[1]: Unknown code '2'", expression: ['Organization.type[0].coding[0]'] }]);
  expect(await storedOrganizations()).toBe(before);
});
