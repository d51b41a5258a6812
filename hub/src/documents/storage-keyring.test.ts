import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { createStorageKey, currentStorageKeyId, loadStorageKeyring } from './storage-keyring.js';

// Setup makes the hub's first storage key; a rotation adds one and makes it current.
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'carehub-keyring-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('a new storage key is a v6 Curve25519 key preferring AES-256-GCM AEAD, readable only by its owner, and current', async () => {
  const keyDir = join(dir, 'keys');
  const keyId = await createStorageKey(keyDir);
  expect(await currentStorageKeyId(keyDir)).toBe(keyId);
  expect(statSync(keyDir).mode & 0o777).toBe(0o700);
  const file = join(keyDir, `${keyId}.key.asc`);
  expect(statSync(file).mode & 0o777).toBe(0o600);

  const key = await openpgp.readPrivateKey({ armoredKey: readFileSync(file, 'utf8') });
  expect(key.keyPacket.version).toBe(6);
  expect(key.getAlgorithmInfo().algorithm).toBe('ed25519');
  expect((await key.getEncryptionKey()).getAlgorithmInfo().algorithm).toBe('x25519');
  // What any OpenPGP implementation encrypting to this key picks from its preferences.
  const suite = await openpgp.generateSessionKey({ encryptionKeys: key.toPublic() });
  expect([suite.algorithm, suite.aeadAlgorithm]).toEqual(['aes256', 'gcm']);
});

test('after a rotation the ring holds both keys, the new one current, and maps recipients to their key', async () => {
  const first = await createStorageKey(dir);
  const second = await createStorageKey(dir);
  const keyring = await loadStorageKeyring(dir);
  expect(keyring.currentKeyId).toBe(second);
  expect(keyring.keyIds.sort()).toEqual([first, second].sort());
  expect(keyring.allArmoredKeys()).toHaveLength(2);
  const subkey = (await openpgp.readPrivateKey({ armoredKey: keyring.armoredKey(first) })).getSubkeys()[0]!;
  expect(keyring.keyIdOfRecipient(subkey.getFingerprint())).toBe(first);
  expect(keyring.keyIdOfRecipient(subkey.getKeyID().toHex().toUpperCase())).toBe(first);
  expect(keyring.keyIdOfRecipient('00'.repeat(32))).toBeUndefined();
  expect(() => keyring.armoredKey('ab'.repeat(32))).toThrow(/no storage key/);
});

test('a folder without a current key, or with a key file that is not what its name says, stops the hub with a message', async () => {
  await expect(loadStorageKeyring(join(dir, 'missing'))).rejects.toThrow(/documents.storageKeyDir .* cannot be read/);
  const keyId = await createStorageKey(dir);
  rmSync(join(dir, 'current'));
  await expect(loadStorageKeyring(dir)).rejects.toThrow(/has no current storage key/);

  writeFileSync(join(dir, 'current'), keyId);
  const other = await createStorageKey(join(dir, 'other'));
  renameSync(join(dir, 'other', `${other}.key.asc`), join(dir, `${'0'.repeat(64)}.key.asc`));
  await expect(loadStorageKeyring(dir)).rejects.toThrow(/not the one its name says/);
  writeFileSync(join(dir, `${'0'.repeat(64)}.key.asc`), 'not a key');
  await expect(loadStorageKeyring(dir)).rejects.toThrow(/is not an OpenPGP private key/);
});

test('a passphrase-protected key is refused: the folder, not a passphrase, protects the keys', async () => {
  const keyId = await createStorageKey(dir);
  const file = join(dir, `${keyId}.key.asc`);
  const key = await openpgp.readPrivateKey({ armoredKey: readFileSync(file, 'utf8') });
  const locked = await openpgp.encryptKey({ privateKey: key, passphrase: 'correct horse' });
  writeFileSync(file, locked.armor());
  await expect(loadStorageKeyring(dir)).rejects.toThrow(/passphrase-protected/);
});
