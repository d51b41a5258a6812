import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunningHub } from '@carehub/hub';
import type { TypedFhirClient } from '../ops/lib/typed-fhir-client.js';
import { startApiHub, type ApiHub } from './support/api-hub.js';

const run = promisify(execFile);
let hub: RunningHub;
let api: ApiHub;
let fhir: TypedFhirClient;
const dir = mkdtempSync(join(tmpdir(), 'carehub-import-'));

beforeAll(async () => {
  api = await startApiHub();
  ({ hub, fhir } = api);
});

afterAll(async () => {
  await api.stop();
});

function importer(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'ops/import-ndjson.ts', '--base-url', `${hub.baseUrl}/fhir`, ...args]);
}

test("an operator imports a county's directory from NDJSON, with progress, and a re-run updates instead of duplicating", async () => {
  const lines: string[] = [];
  for (let o = 0; o < 50; o++) lines.push(JSON.stringify({ resourceType: 'Organization', id: `org-${o}`, name: `Practice ${o}` }));
  for (let p = 0; p < 1200; p++) {
    lines.push(JSON.stringify({ resourceType: 'Practitioner', id: `gp-${p}`, name: [{ family: `Doctor${p}` }] }));
    lines.push(JSON.stringify({ resourceType: 'PractitionerRole', id: `role-${p}`, practitioner: { reference: `Practitioner/gp-${p}` }, organization: { reference: `Organization/org-${p % 50}` } }));
  }
  const file = join(dir, 'directory.ndjson');
  writeFileSync(file, lines.join('\n') + '\n');

  const { stdout } = await importer('--batch', '1000', file);
  expect(stdout).toMatch(/directory.ndjson: 1000 resources \(\d+%\)/);
  expect(stdout).toMatch(/imported 2450 resources in/);
  expect((await fhir.search('PractitionerRole', { _summary: 'count' })).total).toBe(1200);
  expect((await fhir.search('PractitionerRole', { organization: 'Organization/org-7', _summary: 'count' })).total).toBe(24);

  await importer(file);
  expect((await fhir.search('Practitioner', { _summary: 'count' })).total).toBe(1200);
});

test('a bad line stops the import with its line number; earlier Bundles stay stored, nothing of the failing one', async () => {
  const lines = [
    ...Array.from({ length: 3 }, (_, i) => JSON.stringify({ resourceType: 'Location', id: `loc-ok-${i}`, name: `Ward ${i}` })),
    JSON.stringify({ resourceType: 'Location', id: 'loc-bad', name: 'Ward X', status: 42 }),
    JSON.stringify({ resourceType: 'Location', id: 'loc-after', name: 'Ward Y' }),
  ];
  const file = join(dir, 'bad.ndjson');
  writeFileSync(file, lines.join('\n'));
  const failure = await importer('--batch', '2', file).then(
    () => undefined,
    (error: { stderr: string; code: number }) => error,
  );
  expect(failure?.code).toBe(1);
  expect(failure?.stderr).toMatch(/bad.ndjson lines 3–4: HTTP 400: .*Location.status/);
  expect((await fhir.search('Location', { _summary: 'count' })).total).toBe(2);
});
