import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Writes `plaintext` AES-256-GCM-encrypted, atomically: to a temporary file that is fsynced and
 * then renamed over the old one, so a crash leaves either the old or the new file, never half.
 */
export async function writeEncryptedFile(path: string, key: Buffer, plaintext: Uint8Array): Promise<void> {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.tmp-${process.pid}`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(Buffer.concat([iv, cipher.getAuthTag(), body]));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}

/** Reads a file written by writeEncryptedFile; undefined if absent, an error if tampered with. */
export async function readEncryptedFile(path: string, key: Buffer): Promise<Buffer | undefined> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
  decipher.setAuthTag(data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(data.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
}
