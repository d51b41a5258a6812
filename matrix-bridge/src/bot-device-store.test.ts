import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BotDeviceStore } from './bot-device-store.js';
import { readEncryptedFile, writeEncryptedFile } from './encrypted-file.js';

function openRequest(name: string, version: number, upgrade: (db: IDBDatabase) => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, version);
    req.onupgradeneeded = () => upgrade(req.result);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function getValue(db: IDBDatabase, store: string, key: IDBValidKey): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = db.transaction(store).objectStore(store).get(key);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

const session = { userId: '@bot:carehub.test', deviceId: 'DEVICE', accessToken: 'token' };

describe("the bot's device store", () => {
  test('a crypto database written in one run comes back, schema and records, in the next', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carehub-device-'));
    const path = join(dir, 'device.bin');
    const key = randomBytes(32);
    const prefix = `store-test-${randomBytes(4).toString('hex')}`;

    const first = await BotDeviceStore.open(path, key, prefix);
    first.setSession(session);
    const db = await openRequest(`${prefix}::crypto`, 3, (upgrading) => {
      upgrading.createObjectStore('inline', { keyPath: 'id' }).createIndex('by_room', 'room', { unique: false });
      upgrading.createObjectStore('outOfLine');
    });
    await new Promise<void>((resolve) => {
      const tx = db.transaction(['inline', 'outOfLine'], 'readwrite');
      tx.objectStore('inline').put({ id: 'a', room: '!r', secret: new Uint8Array([1, 2, 3]) });
      tx.objectStore('outOfLine').put({ pickle: 'olm' }, ['@gp:carehub.test', 'DEV']);
      tx.oncomplete = () => resolve();
    });
    db.close();
    await first.close();

    // On disk: encrypted, nothing readable.
    expect(readFileSync(path).includes(Buffer.from('pickle'))).toBe(false);

    const second = await BotDeviceStore.open(path, key, prefix);
    expect(second.savedSession).toEqual(session);
    const restored = await openRequest(`${prefix}::crypto`, 3, () => {
      throw new Error('the restored database should not need an upgrade');
    });
    expect(await getValue(restored, 'inline', 'a')).toEqual({ id: 'a', room: '!r', secret: new Uint8Array([1, 2, 3]) });
    expect(await getValue(restored, 'outOfLine', ['@gp:carehub.test', 'DEV'])).toEqual({ pickle: 'olm' });
    expect(Array.from(restored.transaction('inline').objectStore('inline').indexNames)).toEqual(['by_room']);
    restored.close();
    await second.close();
  });

  test('a session saved without its crypto databases is not reused (a new device is needed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carehub-device-'));
    const path = join(dir, 'device.bin');
    const key = randomBytes(32);
    const store = await BotDeviceStore.open(path, key, `empty-${randomBytes(4).toString('hex')}`);
    store.setSession(session);
    await store.close();
    expect((await BotDeviceStore.open(path, key, 'other')).savedSession).toBeUndefined();
  });

  test('a tampered or wrongly keyed file is refused, not half-read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carehub-device-'));
    const path = join(dir, 'file.bin');
    const key = randomBytes(32);
    await writeEncryptedFile(path, key, Buffer.from('crypto state'));
    expect((await readEncryptedFile(path, key))!.toString()).toBe('crypto state');
    await expect(readEncryptedFile(path, randomBytes(32))).rejects.toThrow();
    const bytes = readFileSync(path);
    bytes[bytes.length - 1]! ^= 0xff;
    writeFileSync(path, bytes);
    await expect(readEncryptedFile(path, key)).rejects.toThrow();
  });
});
