import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { decryptFromStorage, encryptForStorage, PgpStreamError, PgpWorkers, storageKeyIdOf } from './pgp-stream.js';
import { createStorageKey, loadStorageKeyring, type StorageKeyring } from './storage-keyring.js';

// The hub keeps every document's content OpenPGP-encrypted to its storage key; these stories
// run the real worker threads on real keys, as the hub does.
const MB = 1024 * 1024;
let dir: string;
let keyDir: string;
let keyring: StorageKeyring;
const workers = new PgpWorkers(2);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'carehub-pgp-stream-'));
  keyDir = join(dir, 'storage-keys');
  await createStorageKey(keyDir);
  keyring = await loadStorageKeyring(keyDir);
});

afterAll(async () => {
  await workers.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `bytes` as a stream of chunks of the size an upload or a file read would bring. */
const streamOf = (bytes: Buffer, chunkSize = 64 * 1024) =>
  Readable.from(
    (function* () {
      for (let offset = 0; offset < bytes.length; offset += chunkSize) yield bytes.subarray(offset, offset + chunkSize);
    })(),
  );

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function refusal(stream: Readable): Promise<PgpStreamError> {
  const error = await readAll(stream).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(PgpStreamError);
  return error as PgpStreamError;
}

test('a small letter is stored as OpenPGP ciphertext to the current key and reads back the same', async () => {
  const letter = Buffer.from('Henvisning: Ole Nielsen, f. 1948, sår på venstre underben.');
  const encrypted = encryptForStorage(workers, keyring, Readable.from([letter]));
  expect(encrypted.storageKeyId).toBe(keyring.currentKeyId);
  const ciphertext = await readAll(encrypted);

  expect(ciphertext.includes(Buffer.from('Ole Nielsen'))).toBe(false);
  expect(storageKeyIdOf(keyring, ciphertext.subarray(0, 300))).toBe(keyring.currentKeyId);
  expect(await readAll(decryptFromStorage(workers, keyring, Readable.from([ciphertext])))).toEqual(letter);
});

test('an empty document survives the round trip', async () => {
  const ciphertext = await readAll(encryptForStorage(workers, keyring, Readable.from([])));
  expect(ciphertext.length).toBeGreaterThan(0);
  expect((await readAll(decryptFromStorage(workers, keyring, Readable.from([ciphertext])))).length).toBe(0);
});

test('a 30 MB scan streams through encryption and decryption unchanged', async () => {
  const scan = randomBytes(30 * MB);
  const encrypted = encryptForStorage(workers, keyring, streamOf(scan));
  let outputChunks = 0;
  const parts: Buffer[] = [];
  for await (const chunk of encrypted) {
    outputChunks++;
    parts.push(chunk as Buffer);
  }
  const ciphertext = Buffer.concat(parts);
  // Output flowed as input flowed: many chunks, not one 30 MB buffer at the end.
  expect(outputChunks).toBeGreaterThan(50);
  expect(ciphertext.length).toBeGreaterThan(scan.length);

  const decrypted = await readAll(decryptFromStorage(workers, keyring, streamOf(ciphertext, 1 * MB)));
  expect(decrypted.length).toBe(scan.length);
  expect(sha256(decrypted)).toBe(sha256(scan));
});

describe('ciphertext that is not what the hub wrote is refused', () => {
  let document: Buffer;
  let ciphertext: Buffer;
  beforeAll(async () => {
    document = randomBytes(2 * MB);
    ciphertext = await readAll(encryptForStorage(workers, keyring, streamOf(document)));
  });

  test('one flipped bit in the middle fails the stream as not intact', async () => {
    const tampered = Buffer.from(ciphertext);
    tampered[Math.floor(tampered.length / 2)]! ^= 0x01;
    expect((await refusal(decryptFromStorage(workers, keyring, streamOf(tampered)))).reason).toBe('not-intact');
  });

  test('a flipped bit in the last chunk fails the stream as not intact', async () => {
    const tampered = Buffer.from(ciphertext);
    tampered[tampered.length - 100]! ^= 0x80;
    expect((await refusal(decryptFromStorage(workers, keyring, streamOf(tampered)))).reason).toBe('not-intact');
  });

  test('a truncated ciphertext fails the stream as not intact', async () => {
    const truncated = ciphertext.subarray(0, ciphertext.length - 300 * 1024);
    expect((await refusal(decryptFromStorage(workers, keyring, streamOf(truncated)))).reason).toBe('not-intact');
  });

  test("a keyring without the document's key cannot read it", async () => {
    const otherDir = join(dir, 'another-hub');
    await createStorageKey(otherDir);
    const error = await refusal(decryptFromStorage(workers, await loadStorageKeyring(otherDir), streamOf(ciphertext)));
    expect(error.reason).toBe('no-key');
    expect(error.message).toMatch(/none of the hub storage keys/);
  });

  test('bytes that are not an OpenPGP message are refused', async () => {
    await refusal(decryptFromStorage(workers, keyring, streamOf(randomBytes(100_000))));
  });
});

test('after a key rotation new content goes to the new key and content under the old key still reads', async () => {
  const rotationDir = join(dir, 'rotation');
  const oldKey = await createStorageKey(rotationDir);
  const before = await loadStorageKeyring(rotationDir);
  const oldDocument = randomBytes(500_000);
  const oldCiphertext = await readAll(encryptForStorage(workers, before, streamOf(oldDocument)));

  const newKey = await createStorageKey(rotationDir);
  const after = await loadStorageKeyring(rotationDir);
  expect(after.currentKeyId).toBe(newKey);
  expect(after.keyIds.sort()).toEqual([oldKey, newKey].sort());

  const newDocument = randomBytes(500_000);
  const newCiphertext = await readAll(encryptForStorage(workers, after, streamOf(newDocument)));
  expect(storageKeyIdOf(after, oldCiphertext)).toBe(oldKey);
  expect(storageKeyIdOf(after, newCiphertext)).toBe(newKey);
  expect((await readAll(decryptFromStorage(workers, after, streamOf(oldCiphertext)))).equals(oldDocument)).toBe(true);
  expect((await readAll(decryptFromStorage(workers, after, streamOf(newCiphertext)))).equals(newDocument)).toBe(true);

  // Re-encryption (what the background job does) leaves content that the new key alone opens.
  const reencrypted = await readAll(encryptForStorage(workers, after, decryptFromStorage(workers, after, streamOf(oldCiphertext))));
  const newKeyOnlyDir = join(dir, 'new-key-only');
  mkdirSync(newKeyOnlyDir, { mode: 0o700 });
  copyFileSync(join(rotationDir, `${newKey}.key.asc`), join(newKeyOnlyDir, `${newKey}.key.asc`));
  writeFileSync(join(newKeyOnlyDir, 'current'), newKey);
  const newKeyOnly = await loadStorageKeyring(newKeyOnlyDir);
  expect((await readAll(decryptFromStorage(workers, newKeyOnly, streamOf(reencrypted)))).equals(oldDocument)).toBe(true);
  expect((await refusal(decryptFromStorage(workers, newKeyOnly, streamOf(oldCiphertext)))).reason).toBe('no-key');
});

test('the event loop keeps serving while a 64 MB document is encrypted', async () => {
  const document = randomBytes(64 * MB);
  const tickTimes: number[] = [];
  const ticker = setInterval(() => tickTimes.push(performance.now()), 10);
  const started = performance.now();
  let ciphertextBytes = 0;
  for await (const chunk of encryptForStorage(workers, keyring, streamOf(document))) ciphertextBytes += (chunk as Buffer).length;
  const ended = performance.now();
  clearInterval(ticker);

  expect(ciphertextBytes).toBeGreaterThan(document.length);
  // Not a benchmark, and no time limit: the OpenPGP work runs on another thread, so a timer on
  // this one keeps firing while it goes on. Done on this thread, the encryption of an in-memory
  // stream is one unbroken chain of promise jobs: no timer fires at all until it is over. (How the
  // ticks spread is not compared: on a 2-core machine running other test files beside this one,
  // this thread was starved for more than half the run, twice, with the work off it.)
  const ticks = tickTimes.filter((t) => t > started && t < ended);
  expect(ticks.length).toBeGreaterThanOrEqual(5);
});

test('a reader that stops reading stops the work: the worker does not swallow the whole input', async () => {
  let produced = 0;
  const endless = Readable.from(
    (function* () {
      const chunk = randomBytes(64 * 1024);
      while (produced < 500 * MB) {
        produced += chunk.length;
        yield chunk;
      }
    })(),
  );
  const encrypted = encryptForStorage(workers, keyring, endless);
  const first = await new Promise<Buffer>((resolve) => encrypted.once('data', resolve));
  encrypted.pause();
  expect(first.length).toBeGreaterThan(0);
  await new Promise((resolve) => setTimeout(resolve, 500));
  // Only a few chunks queued on each side of the thread boundary, plus the streams' own buffers.
  expect(produced).toBeLessThan(16 * MB);

  encrypted.destroy();
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(endless.destroyed).toBe(true);
  // The pool is still good for the next document.
  const letter = Buffer.from('still working');
  const ciphertext = await readAll(encryptForStorage(workers, keyring, Readable.from([letter])));
  expect(await readAll(decryptFromStorage(workers, keyring, Readable.from([ciphertext])))).toEqual(letter);
});

test("an input that fails (an upload cut off, a size limit) fails the output with the input's own error", async () => {
  const cutOff = new Error('the client went away');
  const upload = Readable.from(
    (async function* () {
      yield randomBytes(1 * MB);
      throw cutOff;
    })(),
  );
  await expect(readAll(encryptForStorage(workers, keyring, upload))).rejects.toBe(cutOff);
});

test('several documents at once share the worker pool', async () => {
  const documents = Array.from({ length: 6 }, (_, i) => randomBytes(1 * MB + i));
  const results = await Promise.all(
    documents.map(async (document) => readAll(decryptFromStorage(workers, keyring, Readable.from([await readAll(encryptForStorage(workers, keyring, streamOf(document)))])))),
  );
  results.forEach((result, i) => expect(sha256(result)).toBe(sha256(documents[i]!)));
});

test('a document in flight when the workers are stopped fails instead of hanging, and the next one gets a new worker', async () => {
  const encrypted = encryptForStorage(workers, keyring, streamOf(randomBytes(8 * MB)));
  const outcome = readAll(encrypted).then(
    () => 'finished',
    (error: unknown) => error,
  );
  await new Promise((resolve) => encrypted.once('data', resolve));
  await workers.close();
  const result = await outcome;
  expect(result).toBeInstanceOf(PgpStreamError);
  expect((result as PgpStreamError).reason).toBe('worker');

  const letter = Buffer.from('after a restart of the pool');
  const ciphertext = await readAll(encryptForStorage(workers, keyring, Readable.from([letter])));
  expect(await readAll(decryptFromStorage(workers, keyring, Readable.from([ciphertext])))).toEqual(letter);
});
