import type { Resource } from 'fhir/r4.js';
import type { Queryable } from '../store/database.js';
import { extractIndexValues } from './index-values.js';

/**
 * Rewrites a resource's search index rows; called inside the write's transaction, so a search
 * never sees a resource without its index, nor an index of a version that was rolled back.
 * `resource` undefined (a deletion) only removes the rows.
 */
export async function reindexResource(db: Queryable, type: string, id: string, resource: Resource | undefined): Promise<void> {
  await db.query(
    `WITH t AS (DELETE FROM search_token WHERE resource_type = $1 AND id = $2),
          s AS (DELETE FROM search_string WHERE resource_type = $1 AND id = $2)
     DELETE FROM search_reference WHERE resource_type = $1 AND id = $2`,
    [type, id],
  );
  if (!resource) return;
  const { tokens, strings, references } = extractIndexValues(resource);
  // unnest() inserts each kind in one statement, however many values there are.
  if (tokens.length > 0) {
    await db.query(
      `INSERT INTO search_token (resource_type, id, code, system, value)
       SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[])`,
      [type, id, tokens.map((t) => t.code), tokens.map((t) => t.system), tokens.map((t) => t.value)],
    );
  }
  if (strings.length > 0) {
    await db.query(
      `INSERT INTO search_string (resource_type, id, code, normalized, exact)
       SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[])`,
      [type, id, strings.map((s) => s.code), strings.map((s) => s.normalized), strings.map((s) => s.exact)],
    );
  }
  if (references.length > 0) {
    await db.query(
      `INSERT INTO search_reference (resource_type, id, code, target_type, target_id)
       SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[])`,
      [type, id, references.map((r) => r.code), references.map((r) => r.targetType), references.map((r) => r.targetId)],
    );
  }
}
