import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { OutboxJobData } from '../queue/queues.js';
import { inTransaction, type Database } from '../store/database.js';
import { isOutboxRowOpen, lockOutboxRow, markOutboxRowCompleted } from '../store/outbox.js';
import { decryptContent, storeContent, type StoredContent } from './binary-content-store.js';
import type { DocumentStore } from './document-store.js';

/**
 * After a storage-key rotation: one document's content, decrypted with the key it was stored
 * under and encrypted to the current key as it streams (in the PGP worker threads), then swapped
 * in for the old ciphertext in one transaction. A crash midway leaves the old ciphertext, still
 * readable; the job simply runs again.
 */
export function reencryptContent({ db, documents, logger, refreshKeyring }: { db: Database; documents: DocumentStore; logger: Logger; refreshKeyring: () => Promise<void> }) {
  return async (job: Job<OutboxJobData<'binary.reencrypt'>>): Promise<string> => {
    const { outboxId, contentId } = job.data;
    if (!(await isOutboxRowOpen(db, outboxId))) return 'already done';
    await refreshKeyring();
    // The keyring just read: its current key is the one to re-encrypt to, its others open the old.
    const deps = documents.contentStoreDeps();
    const { keyring } = deps;
    const result = await inTransaction(db, async (client) => {
      const row = await lockOutboxRow(client, outboxId);
      if (!row || row.completedAt) return 'already done';
      const { rows } = await client.query<{ content_type: string; size: string; sha1: string; sha256: string; storage_key: string }>(
        'SELECT content_type, size, sha1, sha256, storage_key FROM binary_content WHERE content_id = $1 FOR UPDATE',
        [contentId],
      );
      const current = rows[0];
      if (!current || current.storage_key === keyring.currentKeyId) {
        await markOutboxRowCompleted(client, outboxId);
        return 'nothing to do';
      }
      const old: StoredContent = {
        contentId,
        contentType: current.content_type,
        size: Number(current.size),
        sha1: current.sha1,
        sha256: current.sha256,
        storageKey: current.storage_key,
      };
      // Re-encrypted under a temporary id, checked, then moved into the old id's place.
      const fresh = await storeContent(client, deps, decryptContent(client, deps, old), old.contentType);
      if (fresh.sha256 !== old.sha256) throw new Error(`re-encryption of ${contentId} changed its content`);
      await client.query('DELETE FROM binary_chunks WHERE content_id = $1', [contentId]);
      await client.query('UPDATE binary_chunks SET content_id = $1 WHERE content_id = $2', [contentId, fresh.contentId]);
      await client.query('UPDATE binary_content SET storage_key = $2 WHERE content_id = $1', [contentId, fresh.storageKey]);
      await client.query('DELETE FROM binary_content WHERE content_id = $1', [fresh.contentId]);
      await markOutboxRowCompleted(client, outboxId);
      return 're-encrypted';
    });
    logger.debug({ contentId, result }, 'document re-encryption');
    return result;
  };
}

/** Queues every document not yet under the current key; returns how many. */
export async function queueReencryption(db: Database, currentKeyId: string): Promise<number> {
  const { rowCount } = await db.query(
    `INSERT INTO outbox (topic, payload)
     SELECT 'binary.reencrypt', jsonb_build_object('contentId', c.content_id)
       FROM binary_content c
      WHERE c.storage_key <> $1
        AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.topic = 'binary.reencrypt' AND o.completed_at IS NULL AND o.payload ->> 'contentId' = c.content_id::text)`,
    [currentKeyId],
  );
  return rowCount ?? 0;
}

/** How many documents are still under an older key (the rotation's progress). */
export async function contentUnderOlderKeys(db: Database, currentKeyId: string): Promise<{ remaining: number; total: number }> {
  const { rows } = await db.query<{ remaining: string; total: string }>(
    'SELECT count(*) FILTER (WHERE storage_key <> $1) AS remaining, count(*) AS total FROM binary_content',
    [currentKeyId],
  );
  return { remaining: Number(rows[0]!.remaining), total: Number(rows[0]!.total) };
}

