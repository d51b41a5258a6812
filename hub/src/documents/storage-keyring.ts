import { chmod, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as openpgp from 'openpgp';

/**
 * The hub's OpenPGP storage keys, one armored private key per file (`<fingerprint>.key.asc`,
 * mode 0600) in one folder (`documents.storageKeyDir`, mode 0700), and a `current` file naming
 * the key new content is encrypted to. Older keys stay so that content not yet re-encrypted after
 * a rotation remains readable.
 *
 * The keys are not passphrase-protected: a passphrase the hub must read from a file next to them
 * would add a step, not a secret. The folder is a secret like the token-signing key and the
 * device-store key: in production, mount it from the county's secret store. What the database
 * and its backups hold is ciphertext only, useless without this folder.
 */
export interface StorageKeyring {
  /** Fingerprint (hex) of the key new content is encrypted to. */
  currentKeyId: string;
  /** Fingerprints of every key in the folder, the current one included. */
  keyIds: string[];
  armoredKey(keyId: string): string;
  allArmoredKeys(): string[];
  /**
   * The storage key (primary fingerprint) that a message recipient names: an encryption subkey's
   * fingerprint (v6 PKESK) or 16-hex-digit key ID (v3 PKESK), or the primary key's own.
   */
  keyIdOfRecipient(fingerprintOrKeyId: string): string | undefined;
}

const CURRENT = 'current';
const KEY_FILE = /^([0-9a-f]{40}|[0-9a-f]{64})\.key\.asc$/;

interface LoadedKey {
  armored: string;
  /** Fingerprints and key IDs of the key and its subkeys, lower-case hex. */
  recipientIds: string[];
}

export async function loadStorageKeyring(dir: string): Promise<StorageKeyring> {
  const keys = new Map<string, LoadedKey>();
  const names = await readdir(dir).catch((error: unknown) => {
    throw new Error(`documents.storageKeyDir ${dir} cannot be read: ${(error as Error).message}`, { cause: error });
  });
  for (const name of names) {
    const match = KEY_FILE.exec(name);
    if (!match) continue;
    const fingerprint = match[1]!;
    keys.set(fingerprint, await readStorageKey(join(dir, name), fingerprint));
  }
  const currentKeyId = await currentStorageKeyId(dir).catch(() => '');
  if (!keys.has(currentKeyId)) {
    throw new Error(`documents.storageKeyDir ${dir} has no current storage key (run npm run setup, or npm run rotate-storage-key)`);
  }
  const byRecipient = new Map<string, string>();
  for (const [fingerprint, key] of keys) for (const id of key.recipientIds) byRecipient.set(id, fingerprint);
  return {
    currentKeyId,
    keyIds: [...keys.keys()],
    armoredKey: (keyId) => {
      const key = keys.get(keyId);
      if (!key) throw new Error(`no storage key ${keyId} in ${dir}`);
      return key.armored;
    },
    allArmoredKeys: () => [...keys.values()].map((key) => key.armored),
    keyIdOfRecipient: (id) => byRecipient.get(id.toLowerCase()),
  };
}

/** Reads one key file and checks it is what its name says: a usable, unprotected private key. */
async function readStorageKey(file: string, fingerprint: string): Promise<LoadedKey> {
  const armored = await readFile(file, 'utf8');
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: armored });
  } catch (error) {
    throw new Error(`storage key file ${file} is not an OpenPGP private key: ${(error as Error).message}`, { cause: error });
  }
  if (key.getFingerprint() !== fingerprint) throw new Error(`storage key file ${file} holds key ${key.getFingerprint()}, not the one its name says`);
  if (!key.isDecrypted()) throw new Error(`storage key ${file} is passphrase-protected; the hub's storage keys are protected by the folder's permissions instead`);
  const recipientIds = [key, ...key.getSubkeys()].flatMap((k) => [k.getFingerprint(), k.getKeyID().toHex()]);
  return { armored, recipientIds };
}

/**
 * Generates a new storage key and makes it the current one; returns its fingerprint. Used by
 * setup and by rotation (npm run rotate-storage-key).
 *
 * Curve25519 in the RFC 9580 v6 key format (X25519 for encryption, Ed25519 to certify), with
 * preferences for SEIPDv2: AES-256 in GCM mode, chunked AEAD. GCM because Node runs it natively
 * (OpenPGP.js does OCB in JavaScript, several times slower); AEAD because each chunk is
 * authenticated before it is released, so large documents decrypt as a stream instead of being
 * held whole until a final integrity check (pgp-worker.ts pins the same cipher suite anyway).
 */
export async function createStorageKey(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = await openpgp.generateKey({
    type: 'curve25519',
    userIDs: [{ name: 'CareHub document storage' }],
    format: 'armored',
    config: {
      v6Keys: true,
      aeadProtect: true,
      preferredAEADAlgorithm: openpgp.enums.aead.gcm,
      preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
      preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
    },
  });
  const fingerprint = (await openpgp.readPrivateKey({ armoredKey: privateKey })).getFingerprint();
  // Written under a temporary name, then renamed: a hub reloading the folder meanwhile never
  // reads half a key. The key file lands before `current` names it.
  await writeAtomically(dir, `${fingerprint}.key.asc`, privateKey);
  await writeAtomically(dir, CURRENT, fingerprint);
  return fingerprint;
}

async function writeAtomically(dir: string, name: string, content: string): Promise<void> {
  const temporary = join(dir, `.${name}.tmp`);
  await writeFile(temporary, content, { mode: 0o600 });
  await chmod(temporary, 0o600); // whatever the umask
  await rename(temporary, join(dir, name));
}

/** The current key's fingerprint as the folder says now (a rotation may have changed it). */
export async function currentStorageKeyId(dir: string): Promise<string> {
  return (await readFile(join(dir, CURRENT), 'utf8')).trim();
}
