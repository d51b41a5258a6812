/**
 * Rotates the hub's document storage key: makes a new OpenPGP key the current one (new content
 * is encrypted to it at once; every hub node notices within seconds), queues every stored
 * document for re-encryption to it through the outbox, and shows the progress as the hub's
 * workers re-encrypt in the background. Old keys stay in the folder until nothing needs them.
 *   npm run rotate-storage-key [-- --config .stack/carehub.yaml] [--no-wait]
 */
import { contentUnderOlderKeys, createDatabase, createStorageKey, loadConfigFile, queueReencryption } from '@carehub/hub';

const option = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const config = await loadConfigFile(option('config') ?? process.env['CAREHUB_CONFIG'] ?? '.stack/carehub.yaml');
const dir = config.documents.storageKeyDir;
if (!dir) {
  console.error('documents.storageKeyDir is not set in the configuration: there is no storage key to rotate');
  process.exit(1);
}
const db = createDatabase(config.database.url, 1);
try {
  const keyId = await createStorageKey(dir);
  console.log(`new current storage key ${keyId}`);
  const queued = await queueReencryption(db, keyId);
  console.log(`${queued} stored document(s) queued for re-encryption (the hub's workers do it in the background)`);
  if (!process.argv.includes('--no-wait')) {
    for (;;) {
      const { remaining, total } = await contentUnderOlderKeys(db, keyId);
      console.log(`  re-encrypted ${total - remaining} of ${total}`);
      if (remaining === 0) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    console.log('done: every document is encrypted to the new key; older keys can be archived');
  }
} finally {
  await db.end();
}
