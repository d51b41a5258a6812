/**
 * Imports a county's directory from NDJSON (one FHIR resource per line) through the FHIR API,
 * in transaction Bundles of up to 1,000 entries, showing progress.
 *
 *   npm run import:ndjson -- --base-url http://127.0.0.1:8080/fhir [--token <access token>] [--batch 1000] file.ndjson …
 *
 * Resources with an id are written with PUT (so references between files hold and a re-run
 * updates instead of duplicating); resources without one are created with POST. Each Bundle is
 * atomic: after an error, every earlier Bundle is stored and nothing of the failing one.
 */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Bundle, BundleEntry, FhirResource, OperationOutcome } from 'fhir/r4.js';

interface Options {
  baseUrl: string;
  token: string | undefined;
  batchSize: number;
  files: string[];
}

function parseArguments(argv: string[]): Options {
  const options: Options = { baseUrl: '', token: undefined, batchSize: 1000, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--base-url') options.baseUrl = argv[++i] ?? '';
    else if (arg === '--token') options.token = argv[++i];
    else if (arg === '--batch') options.batchSize = Number(argv[++i]);
    else options.files.push(arg);
  }
  if (!options.baseUrl || options.files.length === 0 || !(options.batchSize >= 1 && options.batchSize <= 5000)) {
    throw new Error('usage: import-ndjson --base-url <FHIR base URL> [--token <token>] [--batch 1..5000] <file.ndjson> …');
  }
  return options;
}

function entryFor(resource: FhirResource): BundleEntry {
  return resource.id
    ? { resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } }
    : { resource, request: { method: 'POST', url: resource.resourceType } };
}

async function postBundle(options: Options, entries: BundleEntry[], where: string): Promise<void> {
  const response = await fetch(options.baseUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/fhir+json',
      prefer: 'return=minimal',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries } satisfies Bundle),
  });
  if (!response.ok) {
    const outcome = (await response.json().catch(() => undefined)) as OperationOutcome | undefined;
    const details =
      outcome?.issue?.map((i) => `${i.diagnostics ?? i.code}${i.expression ? ` (${i.expression.join(', ')})` : ''}`).join('; ') ?? response.statusText;
    throw new Error(`${where}: HTTP ${response.status}: ${details}`);
  }
}

async function importFile(options: Options, file: string, progress: (lines: number, bytes: number) => void): Promise<number> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let batch: BundleEntry[] = [];
  let firstLineOfBatch = 1;
  let lineNumber = 0;
  let bytes = 0;
  let imported = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await postBundle(options, batch, `${file} lines ${firstLineOfBatch}–${lineNumber}`);
    imported += batch.length;
    batch = [];
    firstLineOfBatch = lineNumber + 1;
    progress(imported, bytes);
  };
  for await (const line of lines) {
    lineNumber++;
    bytes += Buffer.byteLength(line) + 1;
    if (line.trim() === '') continue;
    let resource: FhirResource;
    try {
      resource = JSON.parse(line) as FhirResource;
    } catch {
      throw new Error(`${file} line ${lineNumber}: not JSON`);
    }
    batch.push(entryFor(resource));
    if (batch.length >= options.batchSize) await flush();
  }
  await flush();
  return imported;
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const started = Date.now();
  let total = 0;
  for (const file of options.files) {
    const size = statSync(file).size;
    const imported = await importFile(options, file, (count, bytes) => {
      const seconds = (Date.now() - started) / 1000;
      const percent = size > 0 ? Math.round((bytes / size) * 100) : 100;
      process.stdout.write(`${file}: ${count} resources (${percent}%), ${Math.round((total + count) / seconds)}/s\n`);
    });
    total += imported;
  }
  process.stdout.write(`imported ${total} resources in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`import-ndjson: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
