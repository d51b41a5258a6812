import 'fake-indexeddb/auto';
import { deserialize, serialize } from 'node:v8';
import { readEncryptedFile, writeEncryptedFile } from './encrypted-file.js';
import { restoreDatabases, snapshotDatabases, type DatabaseSnapshot } from './indexeddb-snapshot.js';

/** The bot's login on the homeserver: one device, kept for the life of the deployment. */
export interface BotSession {
  userId: string;
  deviceId: string;
  accessToken: string;
}

interface StoredDevice {
  session: BotSession;
  databases: DatabaseSnapshot[];
}

type WriteListener = (databaseName: string) => void;
const writeListeners = new Set<WriteListener>();

// IndexedDB has no change feed; wrapping transaction() once tells every store which database a
// committed read-write transaction touched, so it knows when its snapshot is stale.
const databasePrototype = globalThis.IDBDatabase.prototype;
const originalTransaction = databasePrototype.transaction;
databasePrototype.transaction = function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
  const tx = originalTransaction.apply(this, args);
  if (args[1] === 'readwrite') tx.addEventListener('complete', () => writeListeners.forEach((l) => l(this.name)));
  return tx;
} as IDBDatabase['transaction'];

/**
 * Deletes an in-memory crypto database. The Rust crypto closes its connections when the client
 * stops, but an operation still in flight can hold one a while longer; the deletion then waits
 * ("blocked") and finishes by itself once it closes. Shutdown does not wait for that forever.
 */
function deleteDatabase(name: string, blockedWaitMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error);
    req.onblocked = () => setTimeout(resolve, blockedWaitMs);
  });
}

/**
 * The bot's device on disk: its session and a snapshot of its Rust crypto store, in one file
 * encrypted with a key from configuration. The snapshot is rewritten shortly after every
 * crypto-store write, and `flushIfStale` is awaited before any request leaves the process, so
 * the homeserver never sees keys or ratchet steps the file does not hold.
 */
export class BotDeviceStore {
  private stale = false;
  private writing: Promise<void> = Promise.resolve();
  private debounce: NodeJS.Timeout | undefined;
  private readonly onWrite: WriteListener = (name) => {
    if (!name.startsWith(this.databasePrefix)) return;
    this.stale = true;
    this.debounce ??= setTimeout(() => {
      this.debounce = undefined;
      void this.flushIfStale().catch(() => undefined);
    }, 100);
  };

  private constructor(
    private readonly path: string,
    private readonly fileKey: Buffer,
    readonly databasePrefix: string,
    private session: BotSession | undefined,
  ) {
    writeListeners.add(this.onWrite);
  }

  /**
   * Opens the store and restores the crypto databases into this process's IndexedDB.
   * A session saved without its crypto databases (a crash right after login) is dropped: that
   * device may already have published keys we no longer hold, so a new device is needed.
   */
  static async open(path: string, fileKey: Buffer, databasePrefix: string): Promise<BotDeviceStore> {
    const raw = await readEncryptedFile(path, fileKey);
    const stored = raw ? (deserialize(raw) as StoredDevice) : undefined;
    const usable = stored && stored.databases.length > 0 ? stored : undefined;
    if (usable) await restoreDatabases(indexedDB, usable.databases);
    return new BotDeviceStore(path, fileKey, databasePrefix, usable?.session);
  }

  get savedSession(): BotSession | undefined {
    return this.session;
  }

  setSession(session: BotSession): void {
    this.session = session;
    this.stale = true;
  }

  /** Writes the snapshot if anything changed since the last write; writes never overlap. */
  flushIfStale(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (!this.stale || !this.session) return;
      this.stale = false;
      try {
        const databases = await snapshotDatabases(indexedDB, this.databasePrefix);
        await writeEncryptedFile(this.path, this.fileKey, serialize({ session: this.session, databases } satisfies StoredDevice));
      } catch (error) {
        this.stale = true;
        throw error;
      }
    });
    return this.writing;
  }

  /**
   * Writes the last changes, then drops the in-memory databases: the file is now the only copy,
   * and the next open (in this process or another) starts from it.
   */
  async close(): Promise<void> {
    clearTimeout(this.debounce);
    await this.flushIfStale();
    writeListeners.delete(this.onWrite);
    const names = (await indexedDB.databases()).map((d) => d.name).filter((n): n is string => Boolean(n?.startsWith(this.databasePrefix)));
    await Promise.all(names.map((name) => deleteDatabase(name)));
  }
}
