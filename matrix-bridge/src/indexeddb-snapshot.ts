/**
 * Copies IndexedDB databases (fake-indexeddb in Node) to a plain object and back.
 *
 * The Rust crypto of matrix-js-sdk persists only to IndexedDB, which Node lacks; fake-indexeddb
 * keeps it in memory. Snapshotting those databases to disk is what lets the hub's bot keep
 * one Matrix device, with its Olm and Megolm sessions, across restarts.
 */

interface IndexSchema {
  name: string;
  keyPath: string | string[];
  unique: boolean;
  multiEntry: boolean;
}
interface StoreSnapshot {
  name: string;
  keyPath: string | string[] | null;
  autoIncrement: boolean;
  indexes: IndexSchema[];
  keys: IDBValidKey[];
  values: unknown[];
}
export interface DatabaseSnapshot {
  name: string;
  version: number;
  stores: StoreSnapshot[];
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function transactionDone(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

function openDatabase(factory: IDBFactory, name: string, version?: number, upgrade?: (db: IDBDatabase) => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = factory.open(name, version);
    req.onupgradeneeded = () => upgrade?.(req.result);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Reads every record of the databases whose names start with `prefix`, in one read transaction each. */
export async function snapshotDatabases(factory: IDBFactory, prefix: string): Promise<DatabaseSnapshot[]> {
  const infos = (await factory.databases()).filter((d) => d.name?.startsWith(prefix));
  const snapshots: DatabaseSnapshot[] = [];
  for (const info of infos) {
    const db = await openDatabase(factory, info.name!);
    try {
      const storeNames = Array.from(db.objectStoreNames);
      const stores: StoreSnapshot[] = [];
      if (storeNames.length > 0) {
        // One transaction over all stores gives a consistent view of the whole database.
        const tx = db.transaction(storeNames, 'readonly');
        for (const storeName of storeNames) {
          const store = tx.objectStore(storeName);
          const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
          stores.push({
            name: storeName,
            keyPath: store.keyPath,
            autoIncrement: store.autoIncrement,
            indexes: Array.from(store.indexNames).map((indexName) => {
              const index = store.index(indexName);
              return { name: indexName, keyPath: index.keyPath, unique: index.unique, multiEntry: index.multiEntry };
            }),
            keys,
            values,
          });
        }
        await transactionDone(tx);
      }
      snapshots.push({ name: db.name, version: db.version, stores });
    } finally {
      db.close();
    }
  }
  return snapshots;
}

/** Recreates the databases of a snapshot (schema, then records). They must not exist yet. */
export async function restoreDatabases(factory: IDBFactory, snapshots: DatabaseSnapshot[]): Promise<void> {
  for (const snapshot of snapshots) {
    const db = await openDatabase(factory, snapshot.name, snapshot.version, (upgrading) => {
      for (const store of snapshot.stores) {
        const created = upgrading.createObjectStore(store.name, { keyPath: store.keyPath, autoIncrement: store.autoIncrement });
        for (const index of store.indexes) {
          created.createIndex(index.name, index.keyPath, { unique: index.unique, multiEntry: index.multiEntry });
        }
      }
    });
    try {
      if (snapshot.stores.length > 0) {
        const tx = db.transaction(snapshot.stores.map((s) => s.name), 'readwrite');
        for (const store of snapshot.stores) {
          const objectStore = tx.objectStore(store.name);
          store.values.forEach((value, i) => {
            // In-line keys live in the value; out-of-line keys must be passed alongside it.
            if (store.keyPath === null) objectStore.put(value, store.keys[i]);
            else objectStore.put(value);
          });
        }
        await transactionDone(tx);
      }
    } finally {
      db.close();
    }
  }
}
