import type { OperationOutcome } from 'fhir/r4.js';
import { ANONYMOUS_RATE_LIMIT } from '../hub/src/http/anonymous-rate-limit.js';
import type { RunningHub } from '@carehub/hub';
import { BAD_INPUTS, sendBadInput } from '../ops/lib/bad-inputs.js';
import { startApiHub, type ApiHub } from './support/api-hub.js';
import { startAuthHub, type AuthHub } from './support/auth-hub.js';

// An attacker's inputs (ops/lib/bad-inputs.ts), each of which once cost the hub seconds,
// gigabytes or a 500, or stored what no FHIR server should hold. Each now gets a 4xx
// OperationOutcome that says what was wrong, nothing is stored, and the hub goes on answering.
// (Time and memory per input: npm run bench:bad-input.)
let api: ApiHub;

beforeAll(async () => {
  api = await startApiHub();
});

afterAll(async () => {
  await api.stop();
});

/** Resources and versions stored, AuditEvents aside (a refused request is audited, and stores nothing else). */
async function storedCount(): Promise<number> {
  const { rows } = await api.hub.db.query<{ n: string }>(
    `SELECT (SELECT count(*) FROM resources WHERE resource_type <> 'AuditEvent') + (SELECT count(*) FROM resource_history WHERE resource_type <> 'AuditEvent') AS n`,
  );
  return Number(rows[0]!.n);
}

const fhirUrl = (path: string) => `${api.baseUrl}/fhir/${path}`;
const json = (method: string, path: string, body: string) => fetch(fhirUrl(path), { method, headers: { 'content-type': 'application/fhir+json' }, body });

describe.each(BAD_INPUTS)('$name', (input) => {
  test(`is answered ${input.status} with an OperationOutcome saying what was wrong; nothing is stored; the hub keeps answering`, async () => {
    const before = await storedCount();
    const response = await sendBadInput(`${api.baseUrl}/fhir`, input);
    expect(response.status).toBe(input.status);
    const outcome = (await response.json()) as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    const said = outcome.issue.map((i) => [i.diagnostics ?? '', ...(i.expression ?? [])].join(' ')).join(' | ');
    expect(said).toMatch(input.says);
    expect(await storedCount()).toBe(before);
    expect((await fetch(fhirUrl('metadata'))).status).toBe(200);
  });
});

test('a Patient with 5,000 bad extensions gets at most 100 issues and the count of the rest', async () => {
  const response = await json('POST', 'Patient', JSON.stringify({ resourceType: 'Patient', extension: Array.from({ length: 5000 }, () => ({})) }));
  expect(response.status).toBe(400);
  const outcome = (await response.json()) as OperationOutcome;
  expect(outcome.issue).toHaveLength(101);
  expect(outcome.issue.at(-1)!.diagnostics).toMatch(/^\d+ more issues not shown \(\d+ in total; at most 100 are listed\)$/);
});

test('ordinary ids, searches and a Bundle of 5,000 entries still work', async () => {
  const put = await json('PUT', 'Patient/Ordinary-id.1', JSON.stringify({ resourceType: 'Patient', id: 'Ordinary-id.1', name: [{ family: 'Smile \u{1F600}' }] }));
  expect(put.status).toBe(201);
  expect((await fetch(fhirUrl(`Patient?_id=${['Ordinary-id.1', ...Array.from({ length: 99 }, (_, i) => `x${i}`)].join(',')}`))).status).toBe(200);
  const entry = { resource: { resourceType: 'Practitioner', name: [{ family: 'Load' }] }, request: { method: 'POST', url: 'Practitioner' } };
  const load = await json('POST', '', JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: Array.from({ length: 5000 }, () => entry) }));
  expect(load.status).toBe(200);
});

describe('with authorization on', () => {
  let authHub: AuthHub;
  let hub: RunningHub;

  beforeAll(async () => {
    authHub = await startAuthHub();
    hub = authHub.hub;
  });

  afterAll(async () => {
    await authHub.stop();
  });

  test('anonymous requests from one address are rate-limited with 429 and Retry-After, and are not audited one row each', async () => {
    const auditRows = async () => Number((await hub.db.query<{ n: string }>("SELECT count(*) AS n FROM resources WHERE resource_type = 'AuditEvent'")).rows[0]!.n);
    const before = await auditRows();
    const statuses: number[] = [];
    for (let i = 0; i < ANONYMOUS_RATE_LIMIT.burst + 10; i++) {
      const headers: Record<string, string> = i % 2 === 0 ? {} : { authorization: 'Bearer not-a-token' };
      const response = await fetch(`${hub.baseUrl}/fhir/Patient`, { headers });
      statuses.push(response.status);
      if (response.status === 429) {
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        const outcome = (await response.json()) as OperationOutcome;
        expect(outcome.issue[0]).toMatchObject({ code: 'throttled', diagnostics: expect.stringContaining('anonymous request limit') });
      } else {
        await response.body?.cancel();
      }
    }
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(ANONYMOUS_RATE_LIMIT.burst);
    expect(statuses.at(-1)).toBe(429);
    // Counted per address and written as one AuditEvent a minute, not one per request.
    expect((await auditRows()) - before).toBe(0);
    // The CapabilityStatement stays public and is not limited.
    expect((await fetch(`${hub.baseUrl}/fhir/metadata`)).status).toBe(200);
  });
});
