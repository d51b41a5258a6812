import { createHash, randomBytes } from 'node:crypto';
import type { Bundle, DocumentReference, OperationOutcome, Subscription, Task } from 'fhir/r4.js';
import pg from 'pg';
import { createLogger, type RunningHub, startHub } from '@carehub/hub';
import { GpMatrixClient } from '../ops/lib/gp-matrix-client.js';
import { TypedFhirClient } from '../ops/lib/typed-fhir-client.js';
import { gpPracticeBundle, idOf, referralBundle } from './support/fhir-fixtures.js';
import { createTestDatabase, createTestHubConfig, registerTestUser, stack } from './support/test-stack.js';
import { waitFor } from './support/wait-for.js';
import { SubscriberEndpoint } from './support/subscriber-endpoint.js';

// Documents both ways on the real stack: a clinic's PDF reaches the GP's own client as an
// encrypted file; a file the GP posts comes back out of the FHIR API; the hub's database only
// ever holds OpenPGP ciphertext; tampering, oversize and unknown types are refused.
const MAX_DOCUMENT_BYTES = 25 * 1024 * 1024;
const TIMEOUT = 180_000;
let hub: RunningHub;
let gp: GpMatrixClient;
let fhir: TypedFhirClient;
let db: pg.Pool;
let roleId: string;
let dropDatabase: () => Promise<void>;

beforeAll(async () => {
  const database = await createTestDatabase();
  dropDatabase = database.drop;
  db = new pg.Pool({ connectionString: database.url, max: 2 });
  const setup = await createTestHubConfig(database.url);
  hub = await startHub({ ...setup.config, documents: { ...setup.config.documents, maxSizeBytes: MAX_DOCUMENT_BYTES } }, createLogger(setup.config.log.level));
  fhir = new TypedFhirClient(`${hub.baseUrl}/fhir`);
  gp = await GpMatrixClient.start(stack.homeserverUrl, await registerTestUser('gp-documents'));
  roleId = idOf(await fhir.transaction(gpPracticeBundle(gp.userId)), 'PractitionerRole');
}, TIMEOUT);

afterAll(async () => {
  gp?.stop();
  await hub?.stop();
  await db?.end();
  await dropDatabase?.();
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** Something that looks like a PDF to a reader, with random content. */
const pdf = (size: number) => Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(size - 9)]);

async function postBinary(bytes: Buffer, contentType: string): Promise<Response> {
  return fetch(`${hub.baseUrl}/fhir/Binary`, { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(bytes) });
}

async function contentRows(): Promise<number> {
  return Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM binary_content')).rows[0]!.n);
}

async function referral(reason: string) {
  const taskId = idOf(await fhir.transaction(referralBundle(`PractitionerRole/${roleId}`, reason)), 'Task');
  const message = await gp.waitForReferral(taskId);
  return { taskId, message };
}

test('a 20 MB PDF posted by the clinic arrives in the GP’s client as an encrypted file with an identical SHA-256', async () => {
  const { taskId } = await referral('Discharge letter follows');
  const letter = pdf(20 * 1024 * 1024);
  const posted = await postBinary(letter, 'application/pdf');
  expect(posted.status).toBe(201);
  const binaryId = /Binary\/([^/]+)\//.exec(posted.headers.get('location')!)![1]!;
  const document = await fhir.create<DocumentReference>({
    resourceType: 'DocumentReference',
    status: 'current',
    description: 'Discharge letter',
    content: [{ attachment: { contentType: 'application/pdf', url: `Binary/${binaryId}`, title: 'Discharge letter.pdf' } }],
    context: { related: [{ reference: `Task/${taskId}` }] },
  });
  // The hub fills in size and hashes from what it stored.
  expect(document.content[0]!.attachment.size).toBe(letter.length);
  expect(document.content[0]!.attachment.hash).toBe(createHash('sha1').update(letter).digest('base64'));

  const event = await gp.waitForEvent('the letter', (e) => e.getContent()['org.carehub.document']?.documentReference === `DocumentReference/${document.id}`, 120_000);
  expect(event.isEncrypted()).toBe(true);
  expect(event.getContent()['body']).toBe(`📄 Discharge letter.pdf (DocumentReference/${document.id})`);
  expect(event.getContent()['info']).toMatchObject({ mimetype: 'application/pdf', size: letter.length });
  const received = await gp.downloadFile(event.getContent());
  expect(sha256(received)).toBe(sha256(letter));
}, TIMEOUT);

test('a file the GP posts in the room comes back out of DocumentReference?related=… byte-identical, attached to the Task', async () => {
  const { taskId, message } = await referral('Please send the care plan');
  // The clinic's system follows documents about its referral.
  const subscriber = await SubscriberEndpoint.start();
  await fhir.create<Subscription>({
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'Documents for our referral',
    criteria: `DocumentReference?related=Task/${taskId}`,
    channel: { type: 'rest-hook', endpoint: subscriber.url, payload: 'application/fhir+json' },
  });
  const carePlan = pdf(300 * 1024);
  const fileEvent = await gp.sendFile(message, carePlan, 'care-plan.pdf', 'application/pdf');
  const ack = await gp.waitForNoticeAbout(fileEvent);
  expect(ack.getContent()['body']).toMatch(/^📄 Received care-plan.pdf: stored as DocumentReference\//);

  const found = await waitFor(async () => {
    const bundle = await fhir.search('DocumentReference', { related: `Task/${taskId}` });
    return bundle.entry?.[0]?.resource as DocumentReference | undefined;
  }, 'the DocumentReference');
  expect(found.author?.[0]?.reference).toBe(`PractitionerRole/${roleId}`);
  const url = found.content[0]!.attachment.url!;
  const downloaded = Buffer.from(await (await fetch(`${hub.baseUrl}/fhir/${url}`)).arrayBuffer());
  expect(downloaded.equals(carePlan)).toBe(true);
  const task = await fhir.read<Task>('Task', taskId);
  expect(task.output?.at(-1)?.valueReference?.reference).toBe(`DocumentReference/${found.id}`);
  const pushed = await waitFor(async () => subscriber.resourcesFor<DocumentReference>('DocumentReference', found.id!)[0], 'the DocumentReference at the subscriber');
  expect(pushed.content[0]!.attachment.url).toBe(url);
  await subscriber.stop();
}, TIMEOUT);

test('inline content becomes an encrypted Binary; the bytes in PostgreSQL are OpenPGP ciphertext, not the document', async () => {
  const text = Buffer.from(`Medication list for Ole Nielsen: ${randomBytes(16).toString('hex')}\n`.repeat(200));
  const document = await fhir.create<DocumentReference>({
    resourceType: 'DocumentReference',
    status: 'current',
    content: [{ attachment: { contentType: 'text/plain', data: text.toString('base64') } }],
  });
  const attachment = document.content[0]!.attachment;
  expect(attachment.data).toBeUndefined();
  expect(attachment.url).toMatch(/^Binary\//);
  expect(attachment.extension?.[0]?.valueBase64Binary).toBe(createHash('sha256').update(text).digest('base64'));

  const { rows } = await db.query<{ data: Buffer }>(
    `SELECT k.data FROM binary_chunks k JOIN binary_content c USING (content_id) WHERE c.binary_id = $1 ORDER BY k.seq`,
    [attachment.url!.slice('Binary/'.length)],
  );
  const stored = Buffer.concat(rows.map((r) => r.data));
  expect(stored.length).toBeGreaterThan(0);
  expect(stored.includes(Buffer.from('Ole Nielsen'))).toBe(false);
  expect(stored.includes(text.subarray(0, 64))).toBe(false);
  const served = Buffer.from(await (await fetch(`${hub.baseUrl}/fhir/${attachment.url}`)).arrayBuffer());
  expect(served.equals(text)).toBe(true);
}, TIMEOUT);

test('tampered ciphertext is refused with an OperationOutcome, not served; a wrong hash is refused (422)', async () => {
  const bytes = pdf(64 * 1024);
  const posted = await postBinary(bytes, 'application/pdf');
  const binaryId = /Binary\/([^/]+)\//.exec(posted.headers.get('location')!)![1]!;
  await db.query(
    `UPDATE binary_chunks SET data = overlay(data placing '\\x00ff'::bytea from 200 for 2)
      WHERE content_id = (SELECT content_id FROM binary_content WHERE binary_id = $1) AND seq = 0`,
    [binaryId],
  );
  const read = await fetch(`${hub.baseUrl}/fhir/Binary/${binaryId}`);
  expect(read.status).toBe(500);
  const outcome = (await read.json()) as OperationOutcome;
  expect(outcome.issue[0]!.diagnostics).toContain('failed its integrity check');

  const intact = await postBinary(pdf(1024), 'application/pdf');
  const intactId = /Binary\/([^/]+)\//.exec(intact.headers.get('location')!)![1]!;
  const wrongHash = await fetch(`${hub.baseUrl}/fhir/DocumentReference`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { url: `Binary/${intactId}`, hash: createHash('sha1').update('other').digest('base64') } }] }),
  });
  expect(wrongHash.status).toBe(422);
}, TIMEOUT);

test('an oversize document (413) and a disallowed type (415) are refused with nothing stored', async () => {
  const before = await contentRows();
  const oversize = await postBinary(pdf(MAX_DOCUMENT_BYTES + 1024), 'application/pdf');
  expect(oversize.status).toBe(413);
  expect(((await oversize.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
  const zip = await postBinary(randomBytes(1024), 'application/zip');
  expect(zip.status).toBe(415);
  const inline = await fetch(`${hub.baseUrl}/fhir/DocumentReference`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'application/x-msdownload', data: 'TVqQAAMAAAAEAAAA' } }] }),
  });
  expect(inline.status).toBe(415);
  expect(await contentRows()).toBe(before);
  const binaries = (await fhir.search('Binary', { _summary: 'count' })) as Bundle;
  expect(binaries.total).toBe(before);
}, TIMEOUT);
