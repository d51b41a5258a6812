/**
 * What each bad input of issue 11 costs the hub: the status it gets, how long the answer took,
 * the hub process's peak RSS while it was handled (VmHWM from /proc, reset before each case),
 * and whether GET /fhir/metadata kept answering meanwhile (polled every 50 ms). Prints figures;
 * asserts nothing about time. The hub runs in its own process, as operators run it.
 *   npm run bench:bad-input
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createStorageKey, generateSigningJwk, parseConfig } from '@carehub/hub';
import { BAD_INPUTS, sendBadInput, type BadInput } from '../lib/bad-inputs.js';
import { HubProcess } from '../lib/hub-process.js';
import { readStackInfo } from '../stack-info.js';

const stack = readStackInfo();
const databaseName = `carehub_bench_${randomBytes(3).toString('hex')}`;
const admin = new pg.Client({ connectionString: stack.databaseUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${databaseName}`);
const databaseUrl = stack.databaseUrl.replace(/\/[^/]+$/, `/${databaseName}`);
const dir = mkdtempSync(join(tmpdir(), 'carehub-bench-bad-input-'));
const keyDir = join(dir, 'storage-keys');
await createStorageKey(keyDir);
const signingKeyFile = join(dir, 'token-signing.jwk');
writeFileSync(signingKeyFile, JSON.stringify(await generateSigningJwk()), { mode: 0o600 });

const configFor = (port: number, authEnabled: boolean) => ({
  http: { host: '127.0.0.1', port, publicBaseUrl: `http://127.0.0.1:${port}` },
  database: { url: databaseUrl, poolSize: 4 },
  matrix: {
    homeserverUrl: stack.homeserverUrl,
    serverName: stack.serverName,
    bot: { userId: `@unused:${stack.serverName}`, passwordFile: '/dev/null' },
    deviceStore: { path: '/dev/null', keyFile: '/dev/null' },
  },
  documents: { storageKeyDir: keyDir },
  roles: ['api'],
  auth: authEnabled ? { enabled: true, signingKeyFile, tokenLifetimeSeconds: 300 } : { enabled: false },
});

const kilobytesOf = (pid: number, field: 'VmRSS' | 'VmHWM') => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
const mb = (kilobytes: number) => (kilobytes / 1024).toFixed(0);

/** Polls /metadata until stopped: how many answered 200, and the slowest answer. */
function pollMetadata(fhirBase: string): { stop(): Promise<string> } {
  let running = true;
  let ok = 0;
  let failed = 0;
  let slowest = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const response = await fetch(`${fhirBase}/metadata`);
        await response.arrayBuffer();
        if (response.status === 200) ok += 1;
        else failed += 1;
      } catch {
        failed += 1;
      }
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return `${ok} × 200${failed ? `, ${failed} failed` : ''}, slowest ${slowest.toFixed(0)} ms`;
    },
  };
}

interface Row {
  name: string;
  status: string;
  ms: number;
  peakMb: string;
  growthMb: string;
  answerBytes: number;
  metadata: string;
}

/** Sends one case (or a burst of them) and measures it on the hub's process. */
async function measure(hub: HubProcess, name: string, send: () => Promise<{ status: string; answerBytes: number }>): Promise<Row> {
  writeFileSync(`/proc/${hub.pid}/clear_refs`, '5'); // resets VmHWM to the current RSS
  const before = kilobytesOf(hub.pid, 'VmRSS');
  const poller = pollMetadata(`${hub.baseUrl}/fhir`);
  const started = performance.now();
  const { status, answerBytes } = await send();
  const ms = performance.now() - started;
  const peak = kilobytesOf(hub.pid, 'VmHWM');
  const metadata = await poller.stop();
  return { name, status, ms, peakMb: mb(peak), growthMb: mb(peak - before), answerBytes, metadata };
}

const once = (fhirBase: string, input: BadInput, headers?: Record<string, string>) => async () => {
  const response = await sendBadInput(fhirBase, input, headers);
  const answer = await response.arrayBuffer();
  return { status: String(response.status), answerBytes: answer.byteLength };
};

function print(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  const header = ['case', 'status', 'ms', 'peak RSS MB', 'growth MB', 'answer bytes', '/metadata meanwhile'];
  const lines = rows.map((r) => [r.name, r.status, r.ms.toFixed(0), r.peakMb, r.growthMb, String(r.answerBytes), r.metadata]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
  console.log(format(header));
  for (const line of lines) console.log(format(line));
}

/** Inputs beyond the shared list that show costs this benchmark should keep an eye on. */
function extraInputs(patientId: string): BadInput[] {
  const doublingCopies = (n: number) => JSON.stringify(Array.from({ length: n }, () => ({ op: 'copy', from: '/extension', path: '/extension/-' })));
  const badEntry = { resource: { resourceType: 'Patient', extension: Array.from({ length: 30 }, () => ({})) }, request: { method: 'POST', url: 'Patient' } };
  return [
    {
      name: 'a 4.9 MB Bundle of 1,600,000 empty entries (at the body limit)',
      method: 'POST',
      path: '',
      contentType: 'application/fhir+json',
      body: () => `{"resourceType":"Bundle","type":"batch","entry":[${Array.from({ length: 1_600_000 }, () => '{}').join(',')}]}`,
      status: 413,
      says: /JSON array limit/,
    },
    {
      name: 'PATCH with 18 doubling copy operations',
      method: 'PATCH',
      path: `Patient/${patientId}`,
      contentType: 'application/json-patch+json',
      body: () => doublingCopies(18),
      status: 413,
      says: /JSON value limit/,
    },
    {
      name: 'a batch of 5,000 Patients with 30 bad extensions each',
      method: 'POST',
      path: '',
      contentType: 'application/fhir+json',
      body: () => JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: Array.from({ length: 5000 }, () => badEntry) }),
      status: 200,
      says: /./,
    },
  ];
}

parseConfig(configFor(18_083, false));
parseConfig(configFor(18_084, true));
const open = await HubProcess.startWithConfig(dir, 'bench-bad-input', configFor(18_083, false), { waitForApi: true });
let secured: HubProcess | undefined;
try {
  const fhirBase = `${open.baseUrl}/fhir`;
  // Warm up (JIT, pools, the validator) with ordinary requests.
  const created = await fetch(`${fhirBase}/Patient`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Patient', extension: [{ url: 'http://example.org/x', valueString: 'aaaaaaaaaa' }] }),
  });
  const patientId = ((await created.json()) as { id: string }).id;
  for (let i = 0; i < 20; i++) await (await fetch(`${fhirBase}/Patient?name=warm${i}`)).arrayBuffer();

  console.log(`\nBad-input benchmark: each case sent once to a hub in its own process (auth off, so every input reaches the parser and the validator)`);
  console.log(`  hub RSS after warm-up: ${mb(kilobytesOf(open.pid, 'VmRSS'))} MB`);
  const rows: Row[] = [];
  for (const input of [...BAD_INPUTS, ...extraInputs(patientId)]) rows.push(await measure(open, input.name, once(fhirBase, input)));
  print('Bad inputs (peak RSS: the hub process\'s VmHWM while the case ran; growth: above its RSS before)', rows);

  await open.stop();
  secured = await HubProcess.startWithConfig(dir, 'bench-bad-input-auth', configFor(18_084, true), { waitForApi: true });
  const securedBase = `${secured.baseUrl}/fhir`;
  const audit = new pg.Client({ connectionString: databaseUrl });
  await audit.connect();
  const auditEvents = async () => Number((await audit.query<{ n: string }>("SELECT count(*) AS n FROM resources WHERE resource_type = 'AuditEvent'")).rows[0]!.n);
  const auditEventsBefore = await auditEvents();
  const anonymousRows: Row[] = [];
  anonymousRows.push(await measure(secured, 'a 2 MB body without a token', once(securedBase, BAD_INPUTS[0]!)));
  anonymousRows.push(
    await measure(secured, '1,000 anonymous requests, one after another', async () => {
      const statuses = new Map<number, number>();
      let answerBytes = 0;
      for (let i = 0; i < 1000; i++) {
        const response = await fetch(`${securedBase}/Patient`, { headers: i % 2 ? { authorization: 'Bearer not-a-token' } : {} });
        answerBytes += (await response.arrayBuffer()).byteLength;
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
      return { status: [...statuses].map(([s, n]) => `${n}×${s}`).join(' '), answerBytes };
    }),
  );
  // Give the audit trail time to write what it would write per request.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const written = (await auditEvents()) - auditEventsBefore;
  await audit.end();
  print('Anonymous requests (auth on; the metadata poller is anonymous too, and never limited)', anonymousRows);
  console.log(`  AuditEvents written for these 1,001 refused requests (and the /metadata polls): ${written} (refusals are counted per address and written once a minute)`);
} finally {
  await open.stop();
  await secured?.stop();
  await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
  await admin.end();
}
