import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { contentUnderOlderKeys, createLogger, createStorageKey, queueReencryption, type RunningHub, startHub } from '@carehub/hub';
import { createTestDatabase, createTestHubConfig } from './support/test-stack.js';
import { waitFor } from './support/wait-for.js';

// An operator rotates the storage key (what `npm run rotate-storage-key` does): the hub's
// workers re-encrypt every document to the new key in the background, and every document
// still reads back unchanged.
let hub: RunningHub;
let db: pg.Pool;
let dropDatabase: () => Promise<void>;
let storageKeyDir: string;

beforeAll(async () => {
  const database = await createTestDatabase();
  dropDatabase = database.drop;
  db = new pg.Pool({ connectionString: database.url, max: 2 });
  const setup = await createTestHubConfig(database.url);
  storageKeyDir = setup.config.documents.storageKeyDir!;
  hub = await startHub(setup.config, createLogger(setup.config.log.level));
}, 120_000);

afterAll(async () => {
  await hub?.stop();
  await db?.end();
  await dropDatabase?.();
});

async function upload(bytes: Buffer): Promise<string> {
  const response = await fetch(`${hub.baseUrl}/fhir/Binary`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(bytes) });
  return /Binary\/([^/]+)\//.exec(response.headers.get('location')!)![1]!;
}

async function ciphertextOf(binaryId: string): Promise<{ key: string; bytes: Buffer }> {
  const { rows } = await db.query<{ storage_key: string; data: Buffer }>(
    'SELECT c.storage_key, k.data FROM binary_content c JOIN binary_chunks k USING (content_id) WHERE c.binary_id = $1 ORDER BY k.seq',
    [binaryId],
  );
  return { key: rows[0]!.storage_key, bytes: Buffer.concat(rows.map((r) => r.data)) };
}

test('after a key rotation every document is re-encrypted to the new key in the background and still reads back unchanged', async () => {
  const documents = [randomBytes(3 * 1024 * 1024), randomBytes(10_000)];
  const ids = [await upload(documents[0]!), await upload(documents[1]!)];
  const before = await ciphertextOf(ids[0]!);

  const newKey = await createStorageKey(storageKeyDir);
  expect(await queueReencryption(db, newKey)).toBe(2);
  await waitFor(async () => ((await contentUnderOlderKeys(db, newKey)).remaining === 0 ? true : undefined), 'the re-encryption to finish', 60_000);

  const after = await ciphertextOf(ids[0]!);
  expect(before.key).not.toBe(newKey);
  expect(after.key).toBe(newKey);
  expect(after.bytes.equals(before.bytes)).toBe(false);
  for (const [i, id] of ids.entries()) {
    const served = Buffer.from(await (await fetch(`${hub.baseUrl}/fhir/Binary/${id}`)).arrayBuffer());
    expect(served.equals(documents[i]!)).toBe(true);
  }
  // New uploads use the new key once the hub has noticed it (it checks every few seconds).
  const later = await waitFor(async () => {
    const id = await upload(randomBytes(1000));
    return (await ciphertextOf(id)).key === newKey ? id : undefined;
  }, 'a new upload under the new key', 30_000, 1000);
  expect(later).toBeDefined();
}, 120_000);
