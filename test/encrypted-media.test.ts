import { createHash, randomBytes } from 'node:crypto';
import { createClient, type MatrixClient } from 'matrix-js-sdk';
import { pino } from 'pino';
import { AttachmentIntegrityError, decryptAttachment } from '../matrix-bridge/src/encrypted-attachment.js';
import { authenticatedMediaUrl, downloadEncryptedFile, uploadEncryptedFile } from '@carehub/matrix-bridge';
import { quietSdkGlobalLogger, sdkLoggerFor } from '../matrix-bridge/src/sdk-logger.js';
import type { RegisteredMatrixUser } from '../ops/lib/synapse-user-registration.js';
import { registerTestUser, stack } from './support/test-stack.js';

// Encrypted attachments against the real Synapse: what one user uploads, another downloads over
// the authenticated media API and decrypts; the media repository itself only ever sees ciphertext.
let sender: RegisteredMatrixUser;
let reader: RegisteredMatrixUser;
let senderClient: MatrixClient;

/** A plain matrix-js-sdk client (no crypto, no sync): uploading media needs neither. */
function plainClient(user: RegisteredMatrixUser): MatrixClient {
  quietSdkGlobalLogger();
  return createClient({
    baseUrl: stack.homeserverUrl,
    userId: user.userId,
    deviceId: user.deviceId,
    accessToken: user.accessToken,
    logger: sdkLoggerFor(pino({ level: 'error' })),
  });
}

/** The bytes the media repository stores for an mxc:// URI, fetched as they are, with `accessToken`. */
function fetchStoredMedia(mxc: string, accessToken?: string): Promise<Response> {
  return fetch(authenticatedMediaUrl(stack.homeserverUrl, mxc), accessToken ? { headers: { authorization: `Bearer ${accessToken}` } } : {});
}

const unpaddedSha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64').replace(/=+$/, '');

beforeAll(async () => {
  sender = await registerTestUser('clinic-secretary');
  reader = await registerTestUser('gp-jensen');
  senderClient = plainClient(sender);
});

afterAll(() => {
  senderClient?.stopClient();
});

test('a secretary uploads a 1 MB letter encrypted; the GP downloads it with her own token and gets it byte for byte; the homeserver stores only ciphertext', async () => {
  const letter = randomBytes(1024 * 1024);

  const content = await uploadEncryptedFile(senderClient, letter, { filename: 'discharge-letter.pdf', mimetype: 'application/pdf' });
  expect(content).toEqual({
    msgtype: 'm.file',
    body: 'discharge-letter.pdf',
    filename: 'discharge-letter.pdf',
    info: { mimetype: 'application/pdf', size: letter.length },
    file: {
      v: 'v2',
      key: { kty: 'oct', alg: 'A256CTR', ext: true, key_ops: ['encrypt', 'decrypt'], k: expect.any(String) },
      iv: expect.any(String),
      hashes: { sha256: expect.any(String) },
      url: expect.stringMatching(new RegExp(`^mxc://${stack.serverName.replace(/\./g, '\\.')}/`)),
    },
  });

  const downloaded = await downloadEncryptedFile(stack.homeserverUrl, reader.accessToken, content.file);
  expect(downloaded.equals(letter)).toBe(true);

  // What the media repository holds and hands out: the ciphertext we hashed, nothing readable,
  // typed as opaque bytes and without the document's name.
  const response = await fetchStoredMedia(content.file.url, reader.accessToken);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/octet-stream');
  expect(response.headers.get('content-disposition') ?? '').not.toContain('discharge-letter');
  const stored = Buffer.from(await response.arrayBuffer());
  expect(stored.length).toBe(letter.length);
  expect(stored.equals(letter)).toBe(false);
  expect(stored.indexOf(letter.subarray(0, 32))).toBe(-1);
  expect(stored.indexOf(letter.subarray(500_000, 500_032))).toBe(-1);
  expect(unpaddedSha256(stored)).toBe(content.file.hashes.sha256);
  expect(decryptAttachment(stored, content.file).equals(letter)).toBe(true);

  // The download endpoint is the authenticated one: no token, no bytes.
  expect((await fetchStoredMedia(content.file.url)).status).toBe(401);
});

test('a file whose hashes.sha256 was changed in the event is refused, not decrypted', async () => {
  const content = await uploadEncryptedFile(senderClient, randomBytes(64 * 1024), { filename: 'lab-results.pdf', mimetype: 'application/pdf' });
  const forged = { ...content.file, hashes: { sha256: unpaddedSha256(randomBytes(64 * 1024)) } };

  await expect(downloadEncryptedFile(stack.homeserverUrl, reader.accessToken, forged)).rejects.toThrow(AttachmentIntegrityError);
  await expect(downloadEncryptedFile(stack.homeserverUrl, reader.accessToken, forged)).rejects.toThrow('does not match its hashes.sha256');
  // The unforged event still works: the refusal was the hash, not the download.
  expect((await downloadEncryptedFile(stack.homeserverUrl, reader.accessToken, content.file)).length).toBe(64 * 1024);
});
