import type { MatrixClient } from 'matrix-js-sdk';
import { decryptAttachment, encryptAttachment, type EncryptedFile } from './encrypted-attachment.js';

export interface FileMessageContent {
  msgtype: 'm.file';
  body: string;
  filename: string;
  info: { mimetype: string; size: number };
  file: EncryptedFile;
}

/** Encrypts and uploads a file; the media repository only ever holds the ciphertext. */
export async function uploadEncryptedFile(client: MatrixClient, plaintext: Uint8Array, meta: { filename: string; mimetype: string }): Promise<FileMessageContent> {
  const { ciphertext, file } = encryptAttachment(plaintext);
  const { content_uri } = await client.uploadContent(new Blob([new Uint8Array(ciphertext)]), { type: 'application/octet-stream', includeFilename: false });
  return {
    msgtype: 'm.file',
    body: meta.filename,
    filename: meta.filename,
    info: { mimetype: meta.mimetype, size: plaintext.byteLength },
    file: { ...file, url: content_uri },
  };
}

/** Downloads an encrypted file over the authenticated media API, checks its hash and decrypts it. */
export async function downloadEncryptedFile(homeserverUrl: string, accessToken: string, file: EncryptedFile): Promise<Buffer> {
  const match = /^mxc:\/\/([^/]+)\/([^/?#]+)$/.exec(file.url);
  if (!match) throw new Error(`not an mxc:// URI: ${file.url}`);
  const url = new URL(`/_matrix/client/v1/media/download/${encodeURIComponent(match[1]!)}/${encodeURIComponent(match[2]!)}`, homeserverUrl);
  const response = await fetch(url, { headers: { authorization: `Bearer ${accessToken}` } });
  if (!response.ok) throw new Error(`media download: HTTP ${response.status}`);
  return decryptAttachment(Buffer.from(await response.arrayBuffer()), file);
}
