import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FhirError, issue } from '../fhir/operation-outcome.js';
import type { Queryable } from '../store/database.js';
import { DigestingStream, type ContentDigest } from './content-digest.js';
import { decryptFromStorage, encryptForStorage, type PgpWorkers } from './pgp-stream.js';
import type { StorageKeyring } from './storage-keyring.js';

/** Ciphertext is kept in rows of this size: small enough to stream, large enough to be few. */
const CHUNK_BYTES = 256 * 1024;
/**
 * V8 frees dead Buffers only after about 64 MB of them have piled up, and a streaming document
 * leaves that much behind in chunk copies: where the hub runs with --expose-gc (npm start does),
 * it asks for a full collection every 16 MB stored or read (docs/decisions/0011).
 */
const COLLECT_EVERY_BYTES = 16 * 1024 * 1024;
const collectGarbage = () => (globalThis as { gc?: (options?: { type: string; execution: string }) => void }).gc?.();

/** Chunks read per query when streaming content out. */
const CHUNKS_PER_READ = 8;

export interface StoredContent extends ContentDigest {
  contentId: string;
  contentType: string;
  storageKey: string;
}

/** What reading or writing content needs: the storage keys, and the threads that use them. */
export interface ContentCrypto {
  keyring: StorageKeyring;
  workers: PgpWorkers;
}

export interface ContentStoreDeps extends ContentCrypto {
  maxSizeBytes: number;
}

/**
 * Encrypts `input` to the hub's current storage key (OpenPGP, in a worker thread) and writes the
 * ciphertext in chunks, hashing and counting the plaintext on the way. Call it inside the
 * transaction that stores the Binary: if the upload fails, is too large or is refused, the
 * rollback leaves nothing behind. Plaintext never touches the database or the disk.
 */
export async function storeContent(db: Queryable, deps: ContentStoreDeps, input: Readable, contentType: string): Promise<StoredContent> {
  const contentId = randomUUID();
  const digesting = new DigestingStream(deps.maxSizeBytes);
  const feeding = pipeline(input, digesting);
  const encrypted = encryptForStorage(deps.workers, deps.keyring, digesting);
  digesting.on('error', (error) => encrypted.destroy(error));
  feeding.catch((error: unknown) => encrypted.destroy(error as Error));

  // The content row first: the chunks reference it.
  await db.query(
    `INSERT INTO binary_content (content_id, content_type, size, sha1, sha256, storage_key) VALUES ($1, $2, 0, '', '', $3)`,
    [contentId, contentType, deps.keyring.currentKeyId],
  );
  let seq = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let sinceCollection = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    sinceCollection += pendingBytes;
    if (sinceCollection >= COLLECT_EVERY_BYTES) {
      sinceCollection = 0;
      collectGarbage();
    }
    await db.query('INSERT INTO binary_chunks (content_id, seq, data) VALUES ($1, $2, $3)', [contentId, seq++, Buffer.concat(pending)]);
    pending = [];
    pendingBytes = 0;
  };
  for await (const chunk of encrypted as AsyncIterable<Buffer>) {
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= CHUNK_BYTES) await flush();
  }
  await flush();
  await feeding;
  const digest = digesting.digest();
  await db.query('UPDATE binary_content SET size = $2, sha1 = $3, sha256 = $4 WHERE content_id = $1', [contentId, digest.size, digest.sha1, digest.sha256]);
  return { contentId, contentType, storageKey: deps.keyring.currentKeyId, ...digest };
}

export async function storeContentBytes(db: Queryable, deps: ContentStoreDeps, bytes: Uint8Array, contentType: string): Promise<StoredContent> {
  return storeContent(db, deps, Readable.from([Buffer.from(bytes)]), contentType);
}

/** Ties stored content to the Binary version it is the content of (same transaction). */
export async function linkContent(db: Queryable, contentId: string, binaryId: string, versionId: string): Promise<void> {
  await db.query('UPDATE binary_content SET binary_id = $2, version_id = $3 WHERE content_id = $1', [contentId, binaryId, Number(versionId)]);
}

interface ContentRow {
  content_id: string;
  content_type: string;
  size: string;
  sha1: string;
  sha256: string;
  storage_key: string;
}
const fromRow = (row: ContentRow): StoredContent => ({
  contentId: row.content_id,
  contentType: row.content_type,
  size: Number(row.size),
  sha1: row.sha1,
  sha256: row.sha256,
  storageKey: row.storage_key,
});

/** The content of a Binary's version (the current one unless `versionId`), if any. */
export async function findContentOf(db: Queryable, binaryId: string, versionId?: string): Promise<StoredContent | undefined> {
  const { rows } = versionId
    ? await db.query<ContentRow>('SELECT * FROM binary_content WHERE binary_id = $1 AND version_id = $2', [binaryId, Number(versionId)])
    : await db.query<ContentRow>(
        `SELECT c.* FROM binary_content c JOIN resources r ON r.resource_type = 'Binary' AND r.id = c.binary_id AND r.version_id = c.version_id
          WHERE c.binary_id = $1 AND NOT r.deleted`,
        [binaryId],
      );
  return rows[0] && fromRow(rows[0]);
}

/** The ciphertext, chunk after chunk, read a few rows at a time. */
function ciphertextOf(db: Queryable, contentId: string): Readable {
  async function* chunks() {
    for (let seq = 0; ; seq += CHUNKS_PER_READ) {
      const { rows } = await db.query<{ data: Buffer }>(
        'SELECT data FROM binary_chunks WHERE content_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq',
        [contentId, seq, seq + CHUNKS_PER_READ],
      );
      for (const row of rows) yield row.data;
      if (rows.length < CHUNKS_PER_READ) return;
    }
  }
  return Readable.from(chunks());
}

export const integrityFailure = (what: string) =>
  new FhirError(500, [issue('exception', `the stored document ${what} failed its integrity check and is not served`)]);

/**
 * The plaintext, decrypted (in a worker thread) as it is read. The output is only trustworthy
 * once the stream ends without error: the OpenPGP integrity check and the stored SHA-256 are
 * verified as it goes and at its end. Use readVerifiedContent to serve callers.
 */
export function decryptContent(db: Queryable, crypto: ContentCrypto, content: StoredContent): Readable {
  const digesting = new DigestingStream(Number.MAX_SAFE_INTEGER);
  const plaintext = decryptFromStorage(crypto.workers, crypto.keyring, ciphertextOf(db, content.contentId));
  plaintext.on('error', (error) => digesting.destroy(error));
  plaintext.pipe(digesting);
  const checked = new Readable({ read() {} });
  let sinceCollection = 0;
  digesting.on('data', (chunk: Buffer) => {
    sinceCollection += chunk.length;
    if (sinceCollection >= COLLECT_EVERY_BYTES) {
      sinceCollection = 0;
      collectGarbage();
    }
    checked.push(chunk);
  });
  digesting.on('error', (error) => checked.destroy(error));
  digesting.on('end', () => {
    const digest = digesting.digest();
    if (digest.sha256 !== content.sha256 || digest.size !== content.size) checked.destroy(integrityFailure(content.contentId));
    else checked.push(null);
  });
  return checked;
}

/** Reads all of it and checks it before returning anything (for content that fits in memory). */
export async function readVerifiedContent(db: Queryable, crypto: ContentCrypto, content: StoredContent): Promise<Buffer> {
  const parts: Buffer[] = [];
  try {
    for await (const chunk of decryptContent(db, crypto, content) as AsyncIterable<Buffer>) parts.push(chunk);
  } catch (error) {
    if (error instanceof FhirError) throw error;
    throw integrityFailure(content.contentId);
  }
  return Buffer.concat(parts);
}

/** Decrypts the whole content once, discarding it, to prove it intact before streaming it out. */
export async function verifyContent(db: Queryable, crypto: ContentCrypto, content: StoredContent): Promise<void> {
  try {
    for await (const _chunk of decryptContent(db, crypto, content)) {
      // discarded: only the checks at the end matter here
    }
  } catch (error) {
    if (error instanceof FhirError) throw error;
    throw integrityFailure(content.contentId);
  }
}
