import nock from 'nock';
import type { Condition, OperationOutcome, Parameters, Resource } from 'fhir/r4.js';
import { FhirError } from '../operation-outcome.js';
import { Validator } from '../resource-validator.js';
import { assertCodesKnownToTerminologyServer, TerminologyServer } from './terminology-server.js';

// The terminology server is an outside system: nock stands in for it.
const TX = 'https://tx.example.org';
const validator = new Validator();

const verdict = (result: boolean, message?: string): Parameters => ({
  resourceType: 'Parameters',
  parameter: [{ name: 'result', valueBoolean: result }, ...(message ? [{ name: 'message', valueString: message }] : [])],
});

function condition(...codes: string[]): Condition {
  const resource: Condition = {
    resourceType: 'Condition',
    subject: { reference: 'Patient/p' },
    code: { coding: codes.map((code) => ({ system: 'http://snomed.info/sct', code })) },
  };
  // Validation finds the codes it cannot check; the terminology step asks about those.
  validator.assertValidResource(resource);
  return resource;
}

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => nock.cleanAll());
// nock patches fetch for the whole Jest worker: later test files must get the real one back.
afterAll(() => {
  nock.enableNetConnect();
  nock.restore();
});

test('a SNOMED CT code the server knows is checked, and its answer is remembered', async () => {
  const server = new TerminologyServer({ url: `${TX}/fhir/`, timeoutMs: 1000 });
  const asked = nock(TX).get('/fhir/CodeSystem/$validate-code').query({ url: 'http://snomed.info/sct', code: '44054006' }).once().reply(200, verdict(true));
  expect(await assertCodesKnownToTerminologyServer(condition('44054006'), server)).toEqual([]);
  expect(asked.isDone()).toBe(true);
  // Asked once: the second write with that code is judged from the remembered answer.
  expect(await assertCodesKnownToTerminologyServer(condition('44054006'), server)).toEqual([]);
  expect(server.cachedAnswers).toBe(1);
});

test('a remembered answer is asked again once it is an hour old', async () => {
  let now = 0;
  const server = new TerminologyServer({ url: `${TX}/fhir`, timeoutMs: 1000 }, { now: () => now });
  const asked = nock(TX).get('/fhir/CodeSystem/$validate-code').query(true).twice().reply(200, verdict(true));
  await assertCodesKnownToTerminologyServer(condition('44054006'), server);
  now = 59 * 60 * 1000;
  await assertCodesKnownToTerminologyServer(condition('44054006'), server);
  expect(asked.pendingMocks()).toHaveLength(1);
  now = 61 * 60 * 1000;
  await assertCodesKnownToTerminologyServer(condition('44054006'), server);
  expect(asked.isDone()).toBe(true);
});

test('a code the server calls invalid refuses the resource at the coding, with the server\'s message', async () => {
  const server = new TerminologyServer({ url: `${TX}/fhir`, timeoutMs: 1000 });
  nock(TX).get('/fhir/CodeSystem/$validate-code').query(true).reply(200, verdict(false, "Unknown code '1' in the CodeSystem 'http://snomed.info/sct'"));
  const refusal = await assertCodesKnownToTerminologyServer(condition('1'), server).catch((error: unknown) => error);
  expect(refusal).toBeInstanceOf(FhirError);
  expect((refusal as FhirError).status).toBe(400);
  expect((refusal as FhirError).issues).toEqual([
    { severity: 'error', code: 'code-invalid', diagnostics: "Unknown code '1' in the CodeSystem 'http://snomed.info/sct'", expression: ['Condition.code.coding[0]'] },
  ]);
});

test('a server that does not know the code system gives no verdict: the code stays not checked', async () => {
  const server = new TerminologyServer({ url: `${TX}/fhir`, timeoutMs: 1000 });
  const unknownSystem: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'result', valueBoolean: false },
      { name: 'message', valueString: "A definition for CodeSystem 'http://snomed.info/sct' could not be found" },
      { name: 'issues', resource: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] } as OperationOutcome },
    ],
  };
  nock(TX).get('/fhir/CodeSystem/$validate-code').query(true).reply(200, unknownSystem);
  const [unchecked, ...rest] = await assertCodesKnownToTerminologyServer(condition('1'), server);
  expect(rest).toEqual([]);
  expect(unchecked!.diagnostics).toMatch(/could not be asked: it does not know the code system \(A definition for CodeSystem/);
});

test('a code of a required binding is asked of its value set', async () => {
  const server = new TerminologyServer({ url: `${TX}/fhir`, timeoutMs: 1000 });
  const synthesis = {
    resourceType: 'RiskEvidenceSynthesis',
    status: 'draft',
    outcome: { reference: 'EvidenceVariable/o' },
    population: { reference: 'EvidenceVariable/p' },
    riskEstimate: { unitOfMeasure: { coding: [{ system: 'http://unitsofmeasure.org', code: 'mg' }] } },
  } as unknown as Resource;
  validator.assertValidResource(synthesis);
  const asked = nock(TX)
    .get('/fhir/ValueSet/$validate-code')
    .query({ url: 'http://hl7.org/fhir/ValueSet/ucum-units', valueSetVersion: '4.0.1', system: 'http://unitsofmeasure.org', code: 'mg' })
    .reply(200, verdict(true));
  expect(await assertCodesKnownToTerminologyServer(synthesis, server)).toEqual([]);
  expect(asked.isDone()).toBe(true);
});

test('while the server fails or is slow, codes stay not checked, saying why, and nothing is remembered', async () => {
  const server = new TerminologyServer({ url: `${TX}/fhir`, timeoutMs: 100 });
  nock(TX).get('/fhir/CodeSystem/$validate-code').query({ url: 'http://snomed.info/sct', code: '1' }).reply(503);
  nock(TX).get('/fhir/CodeSystem/$validate-code').query({ url: 'http://snomed.info/sct', code: '2' }).reply(async () => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      return [200, verdict(true)];
    });
  const unchecked = await assertCodesKnownToTerminologyServer(condition('1', '2'), server);
  expect(unchecked.map((i) => [i.severity, i.code, i.expression?.[0]])).toEqual([
    ['information', 'not-supported', 'Condition.code.coding[0]'],
    ['information', 'not-supported', 'Condition.code.coding[1]'],
  ]);
  expect(unchecked[0]!.diagnostics).toMatch(/could not be asked: it answered 503$/);
  expect(unchecked[1]!.diagnostics).toMatch(/could not be asked: no answer within 100 ms$/);
  expect(server.cachedAnswers).toBe(0);
});

test('at most so many codes of a resource are asked, so many at once; the cache keeps its bound', async () => {
  const server = new TerminologyServer({ url: `${TX}/fhir`, timeoutMs: 1000 }, { codesPerResource: 4, parallel: 2, cacheEntries: 3 });
  let inFlight = 0;
  let mostInFlight = 0;
  nock(TX)
    .get('/fhir/CodeSystem/$validate-code')
    .query(true)
    .times(4)
    .reply(async () => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight -= 1;
      return [200, verdict(true)];
    });
  const unchecked = await assertCodesKnownToTerminologyServer(condition('1', '2', '3', '4', '5'), server);
  expect(unchecked.map((i) => i.expression?.[0])).toEqual(['Condition.code.coding[4]']);
  expect(unchecked[0]!.diagnostics).toMatch(/not asked of the terminology server: at most 4 codes of one resource are$/);
  expect(mostInFlight).toBe(2);
  expect(server.cachedAnswers).toBe(3);
});

test('without a server, the codes are returned as not checked', async () => {
  expect((await assertCodesKnownToTerminologyServer(condition('1'), undefined)).map((i) => i.diagnostics)).toEqual([
    'the code "1" was not checked against its code system http://snomed.info/sct: this server cannot list that code system\'s codes',
  ]);
});
