import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createAttachmentDecryptor, createAttachmentEncryptor, type EncryptedFile } from './encrypted-attachment.js';
import { authenticatedMediaUrl, type FileMessageContent } from './matrix-media.js';

/**
 * Encrypts and uploads a file as it streams (constant memory, for documents of hundreds of MB).
 * AES-CTR keeps the length, so the upload can announce its size up front, as Synapse wants.
 */
export async function uploadEncryptedStream(
  homeserverUrl: string,
  accessToken: string,
  plaintext: Readable,
  meta: { filename: string; mimetype: string; size: number },
): Promise<FileMessageContent> {
  const url = new URL('/_matrix/media/v3/upload', homeserverUrl);
  const encryptor = createAttachmentEncryptor();
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const upload = send(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/octet-stream', 'content-length': String(meta.size) },
  });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    upload.on('response', (response) => {
      const parts: Buffer[] = [];
      response.on('data', (chunk: Buffer) => parts.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
      response.on('error', reject);
    });
    upload.on('error', reject);
  });
  await pipeline(plaintext, encryptor, upload as unknown as Writable);
  const { status, body } = await answer;
  if (status !== 200) throw new Error(`media upload: HTTP ${status} ${body.slice(0, 200)}`);
  const { content_uri } = JSON.parse(body) as { content_uri: string };
  return {
    msgtype: 'm.file',
    body: meta.filename,
    filename: meta.filename,
    info: { mimetype: meta.mimetype, size: meta.size },
    file: { ...encryptor.done(), url: content_uri },
  };
}

/**
 * Downloads and decrypts an encrypted file as a stream. The output is only trustworthy once the
 * stream has ended without error (the ciphertext's hash is checked at its end).
 */
export async function downloadEncryptedStream(homeserverUrl: string, accessToken: string, file: EncryptedFile): Promise<Readable> {
  const response = await fetch(authenticatedMediaUrl(homeserverUrl, file.url), { headers: { authorization: `Bearer ${accessToken}` } });
  if (!response.ok || !response.body) throw new Error(`media download of ${file.url}: HTTP ${response.status}`);
  const decryptor = createAttachmentDecryptor(file);
  Readable.fromWeb(response.body as never).on('error', (e) => decryptor.destroy(e)).pipe(decryptor);
  return decryptor;
}
