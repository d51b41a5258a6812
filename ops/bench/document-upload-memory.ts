/**
 * How much the hub's memory grows while a 200 MB document streams in (POST /fhir/Binary) and
 * out again (GET), measured on the hub's own process (VmRSS from /proc, sampled every 20 ms).
 * Target (document-exchange issue): the upload grows the hub's RSS by no more than ~50 MB.
 *   npm run bench:documents   (runs this after the throughput benchmark)
 *   node --import tsx ops/bench/document-upload-memory.ts --mb 200
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';
import { createStorageKey, parseConfig } from '@carehub/hub';
import { HubProcess } from '../lib/hub-process.js';
import { readStackInfo } from '../stack-info.js';

const argument = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const MEGABYTES = argument('mb', 200);
/** Size of the documents the warm-up streams through both ways before measuring. */
const WARM_UP_MEGABYTES = argument('warm-up-mb', 4);
const SIZE = MEGABYTES * 1024 * 1024;

const stack = readStackInfo();
const databaseName = `carehub_bench_${randomBytes(3).toString('hex')}`;
const admin = new pg.Client({ connectionString: stack.databaseUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${databaseName}`);
const databaseUrl = stack.databaseUrl.replace(/\/[^/]+$/, `/${databaseName}`);
const dir = mkdtempSync(join(tmpdir(), 'carehub-bench-documents-'));
const keyDir = join(dir, 'storage-keys');
await createStorageKey(keyDir);

const rawConfig = {
  http: { host: '127.0.0.1', port: 18_081, publicBaseUrl: 'http://127.0.0.1:18081', operator: { host: '127.0.0.1', port: 0 } },
  database: { url: databaseUrl, poolSize: 4 },
  matrix: {
    homeserverUrl: stack.homeserverUrl,
    serverName: stack.serverName,
    bot: { userId: `@unused:${stack.serverName}`, passwordFile: '/dev/null' },
    deviceStore: { path: '/dev/null', keyFile: '/dev/null' },
  },
  documents: { storageKeyDir: keyDir, maxSizeBytes: SIZE + 1024 },
  roles: ['api'],
  auth: { enabled: false },
};
parseConfig(rawConfig);
const hub = await HubProcess.startWithConfig(dir, 'bench-documents', rawConfig, { waitForApi: true });

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** Samples the hub's RSS while `work` runs; returns the peak. */
async function peakRssDuring(work: () => Promise<void>): Promise<number> {
  let peak = rssOf(hub.pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(hub.pid))), 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, rssOf(hub.pid));
}

/** 200 MB of random-looking bytes, made as they are sent (the benchmark holds no copy either). */
function documentStream(hash: ReturnType<typeof createHash>): Readable {
  const block = randomBytes(1024 * 1024);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= SIZE) return void this.push(null);
      const chunk = Buffer.from(block);
      chunk.writeUInt32BE(sent / block.length, 0); // each block differs
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

try {
  // Warm up (JIT, pools, the PGP workers) with a small document, then measure from there.
  await fetch(`${hub.baseUrl}/fhir/Binary`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: randomBytes(1024 * 1024) });
  const baseline = rssOf(hub.pid);
  console.log(`\nDocument memory benchmark: ${MEGABYTES} MB documents through the hub's API (hub in its own process)`);
  console.log(`  hub RSS after warm-up (4 documents of ${WARM_UP_MEGABYTES} MB, up and down): ${mb(baseline)} MB`);
  let firstUploadGrowth = 0;
  for (const round of ['first', 'second']) {
    const sent = createHash('sha256');
    let location = '';
    const started = Date.now();
    const uploadPeak = await peakRssDuring(async () => {
      const response = await fetch(`${hub.baseUrl}/fhir/Binary`, {
        method: 'POST',
        headers: { 'content-type': 'application/pdf', 'content-length': String(SIZE) },
        body: Readable.toWeb(documentStream(sent)) as ReadableStream,
        duplex: 'half',
      } as RequestInit);
      if (response.status !== 201) throw new Error(`upload: HTTP ${response.status} ${await response.text()}`);
      location = response.headers.get('location')!;
    });
    const uploadSeconds = (Date.now() - started) / 1000;
    const received = createHash('sha256');
    const downloadStarted = Date.now();
    const downloadPeak = await peakRssDuring(async () => {
      const response = await fetch(location.replace(/\/_history\/\d+$/, ''));
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) received.update(chunk);
    });
    const downloadSeconds = (Date.now() - downloadStarted) / 1000;
    if (round === 'first') firstUploadGrowth = uploadPeak - baseline;
    console.log(
      `  ${round} document: upload peak RSS growth ${mb(uploadPeak - baseline)} MB at ${(MEGABYTES / uploadSeconds).toFixed(1)} MB/s;` +
        ` download (verified first) growth ${mb(downloadPeak - baseline)} MB at ${(MEGABYTES / downloadSeconds).toFixed(1)} MB/s;` +
        ` identical: ${received.digest('hex') === sent.digest('hex') ? 'yes' : 'NO'}`,
    );
  }
  console.log(`  target: upload growth ≤ ~50 MB → first upload ${firstUploadGrowth <= 50 * 1024 * 1024 ? 'met' : 'NOT met'}`);
} finally {
  await hub.stop();
  await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
  await admin.end();
}
