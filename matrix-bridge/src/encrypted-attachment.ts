import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Matrix encrypted attachments (client-server spec, "Sending encrypted attachments"):
 * AES-CTR-256 with a fresh key per file, given to the recipient as a JWK inside the (Megolm-
 * encrypted) event; the IV's first 8 bytes are random and its last 8 the block counter, from 0;
 * hashes.sha256 is the SHA-256 of the ciphertext, which a receiver must check before decrypting.
 */
export interface EncryptedFileInfo {
  v: 'v2';
  key: { kty: 'oct'; alg: 'A256CTR'; ext: true; key_ops: string[]; k: string };
  iv: string;
  hashes: { sha256: string };
}
export interface EncryptedFile extends EncryptedFileInfo {
  /** mxc:// URI of the ciphertext in the media repository. */
  url: string;
}

const unpadded = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
const base64url = (b: Buffer) => b.toString('base64url');

export function encryptAttachment(plaintext: Uint8Array): { ciphertext: Buffer; file: EncryptedFileInfo } {
  const key = randomBytes(32);
  const iv = Buffer.concat([randomBytes(8), Buffer.alloc(8)]);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return {
    ciphertext,
    file: {
      v: 'v2',
      key: { kty: 'oct', alg: 'A256CTR', ext: true, key_ops: ['encrypt', 'decrypt'], k: base64url(key) },
      iv: unpadded(iv),
      hashes: { sha256: unpadded(createHash('sha256').update(ciphertext).digest()) },
    },
  };
}

export class AttachmentIntegrityError extends Error {}

/** Checks the ciphertext's hash first (as the spec requires), then decrypts. */
export function decryptAttachment(ciphertext: Uint8Array, file: EncryptedFileInfo): Buffer {
  if (file.key?.alg !== 'A256CTR' || !file.key.k || !file.iv) throw new AttachmentIntegrityError('not a v2 AES-CTR-256 encrypted file');
  const actual = unpadded(createHash('sha256').update(ciphertext).digest());
  if (actual !== file.hashes?.sha256?.replace(/=+$/, '')) throw new AttachmentIntegrityError('the encrypted file does not match its sha256 hash');
  const key = Buffer.from(file.key.k, 'base64url');
  const iv = Buffer.from(file.iv, 'base64');
  if (key.length !== 32 || iv.length !== 16) throw new AttachmentIntegrityError('bad key or IV length');
  const decipher = createDecipheriv('aes-256-ctr', key, iv);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}
