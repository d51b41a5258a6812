/**
 * Document crypto throughput and memory (document-exchange issue), all in one run on one random
 * file (50 MB unless --mb):
 *  - at rest: the hub's OpenPGP streams (worker threads, hub/src/documents/pgp-stream.ts) vs the
 *    gpg command line (Debian gnupg), encrypt and decrypt, file to file / to nothing. Same key
 *    kind (Curve25519), same cipher (AES-256); the hub writes SEIPDv2 (GCM AEAD), GnuPG 2.2 its
 *    only kind, SEIPDv1 (CFB + SHA-1 MDC);
 *  - Matrix attachments: createAttachmentEncryptor (AES-256-CTR + SHA-256 of the ciphertext, as
 *    the spec wants) vs `openssl enc -aes-256-ctr` (no hash), and vs the same piped into
 *    `openssl dgst -sha256` (like for like);
 *  - the process's peak RSS growth while a 200 MB stream (--memory-mb) is encrypted through the
 *    module, and while it is decrypted again.
 * The hub's runs and the tool's alternate, best of RUNS each, so that a busy machine slows both
 * alike; ratios are hub / tool. Target: at-rest encryption >= 0.8x gpg.
 *   npm run bench:documents            (also runs the API-level 200 MB memory benchmark)
 *   node --import tsx ops/bench/document-benchmark.ts --mb 50 --memory-mb 200 --runs 5
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createAttachmentEncryptor } from '../../matrix-bridge/src/encrypted-attachment.js';
import { decryptFromStorage, encryptForStorage, PgpWorkers } from '../../hub/src/documents/pgp-stream.js';
import { createStorageKey, loadStorageKeyring, type StorageKeyring } from '../../hub/src/documents/storage-keyring.js';

const argument = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const MEGABYTES = argument('mb', 50);
const MEMORY_MEGABYTES = argument('memory-mb', 200);
const RUNS = argument('runs', 5);
const MB = 1024 * 1024;
/** The hub's OpenPGP threads, as many as documents.pgpWorkers gives by default. */
const workers = new PgpWorkers(2);

const dir = mkdtempSync(join(tmpdir(), 'carehub-bench-crypto-'));
const gpgHome = join(dir, 'gnupg');
const plain = join(dir, 'document.bin');
writeFileSync(plain, randomBytes(MEGABYTES * MB));
const discard = () => new Writable({ write: (_chunk, _encoding, callback) => callback() });

function hasCommand(command: string): boolean {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Best MB/s of each contender, their runs alternating. */
async function race(contenders: Record<string, () => Promise<unknown> | unknown>): Promise<Record<string, number>> {
  const best: Record<string, number> = {};
  for (let run = 0; run < RUNS; run++) {
    for (const [name, work] of Object.entries(contenders)) {
      const started = process.hrtime.bigint();
      await work();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      best[name] = Math.max(best[name] ?? 0, MEGABYTES / seconds);
    }
  }
  return best;
}

/** Peak growth of this process's RSS (main thread and PGP workers alike) while `work` runs. */
async function peakRssGrowth(work: () => Promise<void>): Promise<{ baselineMb: number; growthMb: number }> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  return { baselineMb: baseline / 1e6, growthMb: (peak - baseline) / 1e6 };
}

/** `size` bytes of random-looking content made as it is read, never held whole. */
function generatedDocument(size: number): Readable {
  const block = randomBytes(64 * 1024);
  let produced = 0;
  return new Readable({
    read() {
      if (produced >= size) {
        this.push(null);
        return;
      }
      const chunk = Buffer.from(block.subarray(0, Math.min(block.length, size - produced)));
      chunk.writeUInt32BE(produced >>> 0, 0); // no two chunks alike
      produced += chunk.length;
      this.push(chunk);
    },
  });
}

async function measureMemory(keyring: StorageKeyring) {
  // Warm up: the workers start and load OpenPGP.js once, a fixed cost the hub pays at start.
  await pipeline(encryptForStorage(workers, keyring, generatedDocument(MB)), discard());
  const ciphertext = join(dir, 'memory.pgp');
  const encrypt = () => peakRssGrowth(() => pipeline(encryptForStorage(workers, keyring, generatedDocument(MEMORY_MEGABYTES * MB)), createWriteStream(ciphertext)));
  const decrypt = () => peakRssGrowth(() => pipeline(decryptFromStorage(workers, keyring, createReadStream(ciphertext)), discard()));
  // Twice: the first big stream also grows the heaps and allocator arenas to their working size
  // (a one-time cost); the second shows what each further document costs.
  const first = { encrypt: await encrypt(), decrypt: await decrypt() };
  const second = { encrypt: await encrypt(), decrypt: await decrypt() };
  rmSync(ciphertext);
  return { first, second, rssAfterMb: process.memoryUsage.rss() / 1e6 };
}

try {
  const keyDir = join(dir, 'storage-keys');
  await createStorageKey(keyDir);
  const keyring = await loadStorageKeyring(keyDir);
  const memory = await measureMemory(keyring);

  const hubCiphertext = join(dir, 'hub.pgp');
  const hubEncrypt = () => pipeline(encryptForStorage(workers, keyring, createReadStream(plain)), createWriteStream(hubCiphertext));
  const hubDecrypt = () => pipeline(decryptFromStorage(workers, keyring, createReadStream(hubCiphertext)), discard());
  await hubEncrypt();

  let atRest: Record<string, number>;
  const gpgFound = hasCommand('gpg');
  if (gpgFound) {
    mkdirSync(gpgHome, { mode: 0o700 });
    const gpg = (...args: string[]) => execFileSync('gpg', ['--homedir', gpgHome, '--batch', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { stdio: 'pipe' });
    // Ed25519 + Curve25519 ECDH: GnuPG's nearest to the hub's v6 Ed25519/X25519 key.
    gpg('--quick-gen-key', 'bench@carehub.invalid', 'future-default', 'default', 'never');
    const gpgCiphertext = join(dir, 'gpg.pgp');
    const gpgEncrypt = () =>
      gpg('--yes', '--trust-model', 'always', '--compress-algo', 'none', '--cipher-algo', 'AES256', '-r', 'bench@carehub.invalid', '-o', gpgCiphertext, '-e', plain);
    gpgEncrypt();
    const gpgDecrypt = () => gpg('--yes', '-o', '/dev/null', '-d', gpgCiphertext);
    atRest = { ...(await race({ hubEncrypt, gpgEncrypt })), ...(await race({ hubDecrypt, gpgDecrypt })) };
  } else {
    atRest = await race({ hubEncrypt, hubDecrypt });
  }

  const key = randomBytes(32).toString('hex');
  const iv = Buffer.concat([randomBytes(8), Buffer.alloc(8)]).toString('hex');
  const attachments = await race({
    hub: () => pipeline(createReadStream(plain), createAttachmentEncryptor(), discard()),
    openssl: () => execFileSync('openssl', ['enc', '-aes-256-ctr', '-K', key, '-iv', iv, '-in', plain, '-out', '/dev/null']),
    // Like for like: the attachment's SHA-256 too, as a second openssl in a pipe.
    opensslWithHash: () => execFileSync('sh', ['-c', `openssl enc -aes-256-ctr -K ${key} -iv ${iv} -in '${plain}' | openssl dgst -sha256 >/dev/null`]),
  });

  const rate = (value: number | undefined) => (value === undefined ? '      -' : value.toFixed(0).padStart(7));
  const ratio = (hub: number, tool: number | undefined) => (tool === undefined ? '-' : `${(hub / tool).toFixed(2)}×`);
  const row = (name: string, hub: number, tool: number | undefined, toolName: string) =>
    console.log(`  ${name.padEnd(30)} hub ${rate(hub)} MB/s   ${toolName} ${rate(tool)} MB/s   ratio ${ratio(hub, tool)}`);
  console.log(`\nDocument crypto benchmark: one ${MEGABYTES} MB file, best of ${RUNS} alternating runs, same machine, same run`);
  row('at rest: encrypt (OpenPGP)', atRest['hubEncrypt']!, atRest['gpgEncrypt'], 'gpg    ');
  row('at rest: decrypt (OpenPGP)', atRest['hubDecrypt']!, atRest['gpgDecrypt'], 'gpg    ');
  row('Matrix attachment encrypt', attachments['hub']!, attachments['openssl'], 'openssl');
  row('  like for like (+ SHA-256)', attachments['hub']!, attachments['opensslWithHash'], 'openssl');
  if (gpgFound) {
    const met = atRest['hubEncrypt']! / atRest['gpgEncrypt']! >= 0.8;
    console.log(`  target: at-rest encryption >= 0.8× gpg: ${met ? 'met' : 'NOT met'}`);
  } else {
    console.log('  gpg not found: no comparison (install Debian gnupg: apt-get install -y gnupg)');
  }

  console.log(`\nMemory: ${MEMORY_MEGABYTES} MB streamed through the PGP workers, peak growth of the whole process's RSS`);
  console.log(`  (main thread and workers; ${memory.first.encrypt.baselineMb.toFixed(0)} MB after warm-up, ${memory.rssAfterMb.toFixed(0)} MB at the end)`);
  const growth = (label: string, run: typeof memory.first) =>
    console.log(`  ${label.padEnd(30)} encrypt ${run.encrypt.growthMb.toFixed(1).padStart(6)} MB   decrypt ${run.decrypt.growthMb.toFixed(1).padStart(6)} MB`);
  growth(`first ${MEMORY_MEGABYTES} MB document`, memory.first);
  growth(`second ${MEMORY_MEGABYTES} MB document`, memory.second);
} finally {
  // gpg started an agent for its throw-away home: stop it.
  if (existsSync(gpgHome)) execFileSync('gpgconf', ['--homedir', gpgHome, '--kill', 'all'], { stdio: 'ignore' });
  await workers.close();
  rmSync(dir, { recursive: true, force: true });
}
