import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Matrix encrypted attachments (client-server spec, "Sending encrypted attachments"):
 * AES-CTR-256 with a fresh key per file, given to the recipient as a JWK inside the (Megolm-
 * encrypted) event; the IV's first 8 bytes are random and its last 8 the block counter, from 0;
 * hashes.sha256 is the SHA-256 of the ciphertext, which a receiver must check before decrypting.
 * AES-CTR has no integrity of its own: that hash, authenticated by riding in the encrypted
 * event, is the only thing that tells a receiver the media repository handed back what was sent.
 */
export interface EncryptedFileInfo {
  v: 'v2';
  key: { kty: 'oct'; alg: 'A256CTR'; ext: true; key_ops: string[]; k: string };
  iv: string;
  hashes: { sha256: string };
}

/** The spec's EncryptedFile: the info plus where the ciphertext lives. */
export interface EncryptedFile extends EncryptedFileInfo {
  /** mxc:// URI of the ciphertext in the media repository. */
  url: string;
}

/** The event's file info is malformed or of a kind we do not decrypt (bad key, IV, hash or version). */
export class EncryptedFileInfoError extends Error {}

/** The ciphertext is not the one the sender hashed: tampered with, truncated or the wrong file. */
export class AttachmentIntegrityError extends Error {}

const KEY_BYTES = 32;
const IV_BYTES = 16;
const SHA256_BYTES = 32;

const unpaddedBase64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

/**
 * Decodes base64 strictly (Node's decoder silently skips characters it does not know). Either
 * alphabet is accepted, padded or not: the spec asks for unpadded base64 and base64url for the
 * JWK, but the lengths checked afterwards are what matter.
 */
function decodeBase64(value: unknown, what: string, bytes: number): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) throw new EncryptedFileInfoError(`encrypted file: ${what} is not base64`);
  const decoded = Buffer.from(value, 'base64');
  if (decoded.length !== bytes) throw new EncryptedFileInfoError(`encrypted file: ${what} is ${decoded.length} bytes, expected ${bytes}`);
  return decoded;
}

interface AttachmentSecrets {
  key: Buffer;
  iv: Buffer;
  sha256: Buffer;
}

/**
 * Reads and checks what decrypting needs from a received file info. Only v2: v1 and v0 files
 * (IVs with all 128 bits random) rely on WebCrypto's 64-bit counter wrapping, which Node's
 * 128-bit AES-CTR counter does not reproduce (matrix-encrypt-attachment's Node build refuses them too).
 */
function secretsOf(file: EncryptedFileInfo): AttachmentSecrets {
  const info = file as Partial<EncryptedFileInfo> | undefined;
  if (info?.v !== 'v2') throw new EncryptedFileInfoError(`encrypted file: version ${JSON.stringify(info?.v)} is not supported (only v2)`);
  if (info.key?.kty !== 'oct' || info.key.alg !== 'A256CTR') throw new EncryptedFileInfoError('encrypted file: the key is not an A256CTR JWK');
  if (!Array.isArray(info.key.key_ops) || !info.key.key_ops.includes('decrypt')) throw new EncryptedFileInfoError('encrypted file: the key is not for decryption (key_ops)');
  return {
    key: decodeBase64(info.key.k, 'key', KEY_BYTES),
    iv: decodeBase64(info.iv, 'iv', IV_BYTES),
    sha256: decodeBase64(info.hashes?.sha256, 'hashes.sha256', SHA256_BYTES),
  };
}

function checkHash(actual: Buffer, expected: Buffer): void {
  if (!timingSafeEqual(actual, expected)) throw new AttachmentIntegrityError('encrypted file: the ciphertext does not match its hashes.sha256; refusing to decrypt');
}

/** A fresh key and an IV of 64 random bits followed by a 64-bit block counter starting at 0. */
function newKeyAndIv(): { key: Buffer; iv: Buffer } {
  return { key: randomBytes(KEY_BYTES), iv: Buffer.concat([randomBytes(8), Buffer.alloc(8)]) };
}

function fileInfo(key: Buffer, iv: Buffer, ciphertextSha256: Buffer): EncryptedFileInfo {
  return {
    v: 'v2',
    key: { kty: 'oct', alg: 'A256CTR', ext: true, key_ops: ['encrypt', 'decrypt'], k: key.toString('base64url') },
    iv: unpaddedBase64(iv),
    hashes: { sha256: unpaddedBase64(ciphertextSha256) },
  };
}

/** Encrypts a whole file in memory; for large files use createAttachmentEncryptor. */
export function encryptAttachment(plaintext: Uint8Array): { ciphertext: Buffer; file: EncryptedFileInfo } {
  const { key, iv } = newKeyAndIv();
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, file: fileInfo(key, iv, createHash('sha256').update(ciphertext).digest()) };
}

/** Checks the ciphertext's hash first (as the spec requires), then decrypts. */
export function decryptAttachment(ciphertext: Uint8Array, file: EncryptedFileInfo): Buffer {
  const { key, iv, sha256 } = secretsOf(file);
  checkHash(createHash('sha256').update(ciphertext).digest(), sha256);
  const decipher = createDecipheriv('aes-256-ctr', key, iv);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

/** A stream that encrypts what is written to it; done() gives the file info once it has ended. */
export interface AttachmentEncryptor extends Transform {
  /** The file info to send (add `url` after upload); throws if the stream has not ended yet. */
  done(): EncryptedFileInfo;
}

class AttachmentEncryptStream extends Transform implements AttachmentEncryptor {
  private readonly secrets = newKeyAndIv();
  private readonly cipher = createCipheriv('aes-256-ctr', this.secrets.key, this.secrets.iv);
  // The hash is of the ciphertext, taken as it streams out, so nothing is held back.
  private readonly hash: Hash = createHash('sha256');
  private info: EncryptedFileInfo | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const ciphertext = this.cipher.update(chunk);
    this.hash.update(ciphertext);
    callback(null, ciphertext);
  }

  override _flush(callback: TransformCallback): void {
    const rest = this.cipher.final(); // empty for CTR, kept for form
    this.hash.update(rest);
    this.info = fileInfo(this.secrets.key, this.secrets.iv, this.hash.digest());
    callback(null, rest);
  }

  done(): EncryptedFileInfo {
    if (!this.info) throw new Error('attachment encryptor: done() called before the stream ended');
    return this.info;
  }
}

/**
 * Encrypts a file as it streams through, in constant memory (for documents of hundreds of MB):
 * `await pipeline(source, encryptor, upload)`, then `encryptor.done()` for the file info.
 */
export function createAttachmentEncryptor(): AttachmentEncryptor {
  return new AttachmentEncryptStream();
}

class AttachmentDecryptStream extends Transform {
  private readonly decipher: ReturnType<typeof createDecipheriv>;
  private readonly hash: Hash = createHash('sha256');
  private readonly expectedSha256: Buffer;

  constructor(file: EncryptedFileInfo) {
    super();
    const { key, iv, sha256 } = secretsOf(file);
    this.decipher = createDecipheriv('aes-256-ctr', key, iv);
    this.expectedSha256 = sha256;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    callback(null, this.decipher.update(chunk));
  }

  override _flush(callback: TransformCallback): void {
    try {
      checkHash(this.hash.digest(), this.expectedSha256);
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback(null, this.decipher.final());
  }
}

/**
 * Decrypts a file as it streams through, in constant memory. The spec wants the hash checked
 * before decrypting, which a stream can only do at its end: the stream errors with an
 * AttachmentIntegrityError when the ciphertext does not match, and until it has ended without
 * error its output is UNVERIFIED. The caller must not use, show or forward any of it before
 * then: write it to a temporary file, and use (or rename) that only once `pipeline()` resolves;
 * delete it if it rejects. Throws EncryptedFileInfoError at once if the file info is unusable.
 */
export function createAttachmentDecryptor(file: EncryptedFileInfo): Transform {
  return new AttachmentDecryptStream(file);
}
