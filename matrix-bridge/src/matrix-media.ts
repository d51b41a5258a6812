import type { MatrixClient } from 'matrix-js-sdk';
import { decryptAttachment, encryptAttachment, type EncryptedFile } from './encrypted-attachment.js';

/** The content of an m.room.message with msgtype m.file whose file is an encrypted attachment. */
export interface FileMessageContent {
  msgtype: 'm.file';
  body: string;
  filename: string;
  info: { mimetype: string; size: number };
  file: EncryptedFile;
}

/**
 * Encrypts and uploads a file; the media repository only ever holds the ciphertext, uploaded as
 * application/octet-stream and without a filename, so not even the kind of document leaks.
 * Returns the m.file content, ready to be sent in an encrypted room.
 */
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

/** The authenticated media download URL (spec v1.11, /_matrix/client/v1/media/download) of an mxc:// URI. */
export function authenticatedMediaUrl(homeserverUrl: string, mxc: string): URL {
  const match = /^mxc:\/\/([^/]+)\/([A-Za-z0-9_-]+)$/.exec(mxc);
  if (!match) throw new Error(`not an mxc:// URI: ${mxc}`);
  return new URL(`/_matrix/client/v1/media/download/${encodeURIComponent(match[1]!)}/${encodeURIComponent(match[2]!)}`, homeserverUrl);
}

/**
 * Downloads an encrypted file over the authenticated media API with the reader's own access
 * token, checks the ciphertext's hash and decrypts it (an AttachmentIntegrityError if the
 * homeserver handed back anything but what was sent).
 */
export async function downloadEncryptedFile(homeserverUrl: string, accessToken: string, file: EncryptedFile): Promise<Buffer> {
  const response = await fetch(authenticatedMediaUrl(homeserverUrl, file.url), { headers: { authorization: `Bearer ${accessToken}` } });
  if (!response.ok) {
    const errcode = ((await response.json().catch(() => ({}))) as { errcode?: string }).errcode;
    throw new Error(`media download of ${file.url}: HTTP ${response.status}${errcode ? ` ${errcode}` : ''}`);
  }
  return decryptAttachment(Buffer.from(await response.arrayBuffer()), file);
}
