/**
 * `npm run bench:directory [-- --practitioners 100000]`: loads a county-sized directory through
 * the FHIR API, then compares, in the same run on the same database:
 *   - five typical directory searches through the API (HTTP, parsing, SQL, JSON) against the
 *     same search written by hand as SQL over the same index tables (the floor any API adds to);
 *   - create throughput through the API (one POST per resource) against raw INSERTs.
 * Prints p50/p99 and API/SQL ratios. Targets (issue #3): API p50 ≤ 3× SQL, API p99 < 50 ms.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Bundle, BundleEntry } from 'fhir/r4.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubProcess } from '../lib/hub-process.js';
import { CAREHUB_ENDPOINT_CONNECTION_SYSTEM, parseConfig } from '@carehub/hub';
import { readStackInfo } from '../stack-info.js';

const argument = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const PRACTITIONERS = argument('practitioners', 100_000);
const ORGANIZATIONS = Math.max(1, Math.round(PRACTITIONERS / 50));
const RUNS = argument('runs', 300);
const CREATES = argument('creates', 2000);
const SOR = 'urn:oid:1.2.208.176.1.1';
const CITIES = ['Nordby', 'Sønderby', 'Østby', 'Vestby', 'Midtby'];
const FAMILIES = ['Jensen', 'Nielsen', 'Hansen', 'Pedersen', 'Andersen', 'Christensen', 'Larsen', 'Sørensen', 'Rasmussen', 'Jørgensen'];

const stack = readStackInfo();
const databaseName = `carehub_bench_${randomBytes(3).toString('hex')}`;
const admin = new pg.Client({ connectionString: stack.databaseUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${databaseName}`);
const databaseUrl = stack.databaseUrl.replace(/\/[^/]+$/, `/${databaseName}`);

// The hub runs in its own process, as in production: load generator and server must not share
// one event loop, or the measurement would mostly show their contention.
const rawConfig = {
  http: { host: '127.0.0.1', port: 18_080, publicBaseUrl: 'http://127.0.0.1:18080', operator: { host: '127.0.0.1', port: 0 } },
  database: { url: databaseUrl, poolSize: 10 },
  matrix: {
    homeserverUrl: stack.homeserverUrl,
    serverName: stack.serverName,
    bot: { userId: `@unused:${stack.serverName}`, passwordFile: '/dev/null' },
    deviceStore: { path: '/dev/null', keyFile: '/dev/null' },
  },
  roles: ['api'],
  auth: { enabled: false },
};
parseConfig(rawConfig); // fail here, with the option named, rather than in the child
const hub = await HubProcess.startWithConfig(mkdtempSync(join(tmpdir(), 'carehub-bench-')), 'bench', rawConfig, { waitForApi: true });
const base = `${hub.baseUrl}/fhir`;
const sql = new pg.Pool({ connectionString: databaseUrl, max: 2 });

async function post(path: string, body: unknown): Promise<Bundle> {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST ${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json().catch(() => ({}))) as Bundle;
}

const entry = (fullUrl: string, resource: object): BundleEntry => ({ fullUrl, resource: resource as never, request: { method: 'POST', url: (resource as { resourceType: string }).resourceType } });

// ── Load ────────────────────────────────────────────────────────────────────────────────────
const loadStarted = Date.now();
const organizationIds: string[] = [];
for (let start = 0; start < ORGANIZATIONS; start += 1000) {
  const entries = Array.from({ length: Math.min(1000, ORGANIZATIONS - start) }, (_, i) => {
    const n = start + i;
    return entry(`urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, {
      resourceType: 'Organization',
      active: n % 10 !== 0,
      identifier: [{ system: SOR, value: `S${n}` }],
      name: `Practice ${n}`,
      address: [{ city: CITIES[n % CITIES.length], postalCode: String(8000 + (n % 900)) }],
    });
  });
  const response = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries }) });
  const bundle = (await response.json()) as Bundle;
  organizationIds.push(...bundle.entry!.map((e) => e.resource!.id!));
}
const PER_BUNDLE = 333; // practitioner + endpoint + role: 999 entries a Bundle
for (let start = 0; start < PRACTITIONERS; start += PER_BUNDLE) {
  const entries: BundleEntry[] = [];
  for (let n = start; n < Math.min(start + PER_BUNDLE, PRACTITIONERS); n++) {
    const p = `urn:uuid:10000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    const e = `urn:uuid:20000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    entries.push(
      entry(p, { resourceType: 'Practitioner', active: true, identifier: [{ system: 'urn:carehub:gp', value: `GP${n}` }], name: [{ family: `${FAMILIES[n % FAMILIES.length]}${n}`, given: ['Karen'] }] }),
      entry(e, { resourceType: 'Endpoint', status: 'active', connectionType: { system: CAREHUB_ENDPOINT_CONNECTION_SYSTEM, code: 'matrix' }, payloadType: [{ text: 'referrals' }], address: `matrix:u/@gp${n}:carehub.test` }),
      entry(`urn:uuid:30000000-0000-4000-8000-${String(n).padStart(12, '0')}`, {
        resourceType: 'PractitionerRole',
        active: true,
        practitioner: { reference: p },
        organization: { reference: `Organization/${organizationIds[n % ORGANIZATIONS]}` },
        endpoint: [{ reference: e }],
        specialty: [{ coding: [{ system: 'http://snomed.info/sct', code: n % 3 === 0 ? '394814009' : '419772000' }] }],
      }),
    );
  }
  await post('', { resourceType: 'Bundle', type: 'transaction', entry: entries });
  if ((start / PER_BUNDLE) % 30 === 0) process.stderr.write(`loaded ${start + PER_BUNDLE} of ${PRACTITIONERS} practitioners\r`);
}
const loadSeconds = (Date.now() - loadStarted) / 1000;
const resourceCount = ORGANIZATIONS + PRACTITIONERS * 3;
process.stderr.write('\n');
await sql.query('ANALYZE');

// ── Queries ─────────────────────────────────────────────────────────────────────────────────
interface Query {
  name: string;
  api: (i: number) => string;
  sql: (i: number) => [string, unknown[]];
}
const pick = (i: number, n: number) => (i * 7919) % n;
const queries: Query[] = [
  {
    name: 'Organization by identifier',
    api: (i) => `/Organization?identifier=${encodeURIComponent(`${SOR}|S${pick(i, ORGANIZATIONS)}`)}`,
    sql: (i) => [
      `SELECT r.content FROM resources r JOIN search_token t ON t.resource_type = r.resource_type AND t.id = r.id
        WHERE r.resource_type = 'Organization' AND NOT r.deleted AND t.code = 'identifier' AND t.system = $1 AND t.value = $2 LIMIT 21`,
      [SOR, `S${pick(i, ORGANIZATIONS)}`],
    ],
  },
  {
    name: 'Practitioner by name (starts with)',
    api: (i) => `/Practitioner?name=${FAMILIES[i % FAMILIES.length]!.toLowerCase()}${pick(i, PRACTITIONERS)}&_count=20`,
    sql: (i) => [
      `SELECT r.content FROM resources r WHERE r.resource_type = 'Practitioner' AND NOT r.deleted AND r.id IN (
         SELECT s.id FROM search_string s WHERE s.resource_type = 'Practitioner' AND s.code = 'name' AND s.normalized LIKE $1)
        ORDER BY r.id LIMIT 21`,
      [`${FAMILIES[i % FAMILIES.length]!.toLowerCase()}${pick(i, PRACTITIONERS)}%`],
    ],
  },
  {
    name: 'Roles of an organisation',
    api: (i) => `/PractitionerRole?organization=Organization/${organizationIds[pick(i, ORGANIZATIONS)]}&_count=100`,
    sql: (i) => [
      `SELECT r.content FROM resources r JOIN search_reference x ON x.resource_type = r.resource_type AND x.id = r.id
        WHERE r.resource_type = 'PractitionerRole' AND NOT r.deleted AND x.code = 'organization' AND x.target_type = 'Organization' AND x.target_id = $1
        ORDER BY r.id LIMIT 101`,
      [organizationIds[pick(i, ORGANIZATIONS)]],
    ],
  },
  {
    name: 'TI-M lookup: role by practitioner name, with practitioner and endpoint',
    api: (i) =>
      `/PractitionerRole?practitioner.name=${FAMILIES[i % FAMILIES.length]!.toLowerCase()}${pick(i, PRACTITIONERS)}&_include=PractitionerRole:practitioner&_include=PractitionerRole:endpoint`,
    sql: (i) => [
      `WITH roles AS (
         SELECT r.id, r.content FROM resources r JOIN search_reference x ON x.resource_type = r.resource_type AND x.id = r.id AND x.code = 'practitioner'
          WHERE r.resource_type = 'PractitionerRole' AND NOT r.deleted AND x.target_id IN (
            SELECT s.id FROM search_string s WHERE s.resource_type = 'Practitioner' AND s.code = 'name' AND s.normalized LIKE $1)
          ORDER BY r.id LIMIT 21)
       SELECT content FROM roles
       UNION ALL
       SELECT t.content FROM roles JOIN search_reference x ON x.resource_type = 'PractitionerRole' AND x.id = roles.id AND x.code IN ('practitioner', 'endpoint')
         JOIN resources t ON t.resource_type = x.target_type AND t.id = x.target_id`,
      [`${FAMILIES[i % FAMILIES.length]!.toLowerCase()}${pick(i, PRACTITIONERS)}%`],
    ],
  },
  {
    name: 'Active organisations in a city, first page',
    api: (i) => `/Organization?address-city=${encodeURIComponent(CITIES[i % CITIES.length]!)}&active=true&_count=50`,
    sql: (i) => [
      `SELECT r.content FROM resources r WHERE r.resource_type = 'Organization' AND NOT r.deleted
          AND EXISTS (SELECT 1 FROM search_string s WHERE s.resource_type = r.resource_type AND s.id = r.id AND s.code = 'address-city' AND s.normalized LIKE $1)
          AND EXISTS (SELECT 1 FROM search_token t WHERE t.resource_type = r.resource_type AND t.id = r.id AND t.code = 'active' AND t.value = 'true')
        ORDER BY r.id LIMIT 51`,
      [`${CITIES[i % CITIES.length]!.normalize('NFD').replace(/\p{Diacritic}/gu, '').toLowerCase()}%`],
    ],
  },
];

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;
const ms = (n: number) => n.toFixed(2).padStart(7);

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

console.log(`\nDirectory benchmark: ${PRACTITIONERS} practitioners with roles and endpoints, ${ORGANIZATIONS} organisations (${resourceCount} resources)`);
console.log(`loaded through the API in ${loadSeconds.toFixed(0)} s (${Math.round(resourceCount / loadSeconds)} resources/s, transaction Bundles of ~1,000)\n`);
console.log(`${'query'.padEnd(72)}  API p50   API p99   SQL p50   SQL p99   p50 ratio`);
const summary: Array<{ name: string; ratio: number; apiP99: number }> = [];
for (const query of queries) {
  for (let i = 0; i < 20; i++) {
    // Warm caches on both sides before measuring.
    await fetch(`${base}${query.api(i)}`).then((r) => r.arrayBuffer());
    await sql.query(...query.sql(i));
  }
  const api: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    api.push(await time(async () => {
      const response = await fetch(`${base}${query.api(i)}`);
      if (!response.ok) throw new Error(`${query.name}: HTTP ${response.status}`);
      await response.json();
    }));
    raw.push(await time(() => sql.query(...query.sql(i))));
  }
  const ratio = percentile(api, 50) / percentile(raw, 50);
  summary.push({ name: query.name, ratio, apiP99: percentile(api, 99) });
  console.log(`${query.name.padEnd(72)} ${ms(percentile(api, 50))}   ${ms(percentile(api, 99))}   ${ms(percentile(raw, 50))}   ${ms(percentile(raw, 99))}   ${ratio.toFixed(2)}×`);
}

// ── Creates ─────────────────────────────────────────────────────────────────────────────────
const apiCreates = await time(async () => {
  for (let i = 0; i < CREATES; i++) {
    const response = await fetch(`${base}/Practitioner`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' },
      body: JSON.stringify({ resourceType: 'Practitioner', active: true, name: [{ family: `Created${i}` }] }),
    });
    if (response.status !== 201) throw new Error(`create: HTTP ${response.status}`);
  }
});
const rawCreates = await time(async () => {
  for (let i = 0; i < CREATES; i++) {
    await sql.query(`INSERT INTO resources (resource_type, id, version_id, last_updated, content) VALUES ('Practitioner', $1, 1, now(), $2)`, [
      `raw-${i}`,
      { resourceType: 'Practitioner', id: `raw-${i}`, active: true, name: [{ family: `Raw${i}` }] },
    ]);
  }
});
const apiRate = CREATES / (apiCreates / 1000);
const rawRate = CREATES / (rawCreates / 1000);
console.log(`\ncreates, one at a time: API ${apiRate.toFixed(0)}/s (validated, versioned, indexed) vs raw INSERT ${rawRate.toFixed(0)}/s: ${(apiRate / rawRate).toFixed(2)}× raw`);
const worstRatio = Math.max(...summary.map((s) => s.ratio));
const worstP99 = Math.max(...summary.map((s) => s.apiP99));
console.log(`targets: API p50 ≤ 3× SQL → worst ${worstRatio.toFixed(2)}× ${worstRatio <= 3 ? 'met' : 'NOT met'}; API p99 < 50 ms → worst ${worstP99.toFixed(1)} ms ${worstP99 < 50 ? 'met' : 'NOT met'}`);

await sql.end();
await hub.stop();
await admin.query(`DROP DATABASE ${databaseName} WITH (FORCE)`);
await admin.end();
process.exit(0);
