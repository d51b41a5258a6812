import type { Resource } from 'fhir/r4.js';
import type { Queryable } from '../store/database.js';
import { extractIndexValues } from './index-values.js';

/**
 * Writes the search index rows of resources; called inside the write's transaction, so a search
 * never sees a resource without its index, nor an index of a version that was rolled back.
 * `replace` first removes the rows of an earlier version (updates); new resources have none.
 */
export async function reindexResources(db: Queryable, resources: Resource[], replace: boolean): Promise<void> {
  if (replace) {
    const types = resources.map((r) => r.resourceType);
    const ids = resources.map((r) => r.id!);
    await db.query(
      `WITH doomed AS (SELECT * FROM unnest($1::text[], $2::text[]) AS d(resource_type, id)),
            t AS (DELETE FROM search_token x USING doomed d WHERE x.resource_type = d.resource_type AND x.id = d.id),
            s AS (DELETE FROM search_string x USING doomed d WHERE x.resource_type = d.resource_type AND x.id = d.id)
       DELETE FROM search_reference x USING doomed d WHERE x.resource_type = d.resource_type AND x.id = d.id`,
      [types, ids],
    );
  }
  const tokens: string[][] = [[], [], [], [], []];
  const strings: string[][] = [[], [], [], [], []];
  const references: string[][] = [[], [], [], [], []];
  const push = (columns: Array<Array<string | null>>, values: Array<string | null>) => values.forEach((v, i) => columns[i]!.push(v));
  for (const resource of resources) {
    const owner = [resource.resourceType, resource.id!];
    const values = extractIndexValues(resource);
    for (const t of values.tokens) push(tokens, [...owner, t.code, t.system, t.value]);
    for (const s of values.strings) push(strings, [...owner, s.code, s.normalized, s.exact]);
    for (const r of values.references) push(references, [...owner, r.code, r.targetType, r.targetId]);
  }
  // unnest() inserts each kind in one statement, however many values there are.
  const insert = async (table: string, columns: string, rows: string[][]) => {
    if (rows[0]!.length === 0) return;
    await db.query(`INSERT INTO ${table} (resource_type, id, ${columns}) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])`, rows);
  };
  await insert('search_token', 'code, system, value', tokens);
  await insert('search_string', 'code, normalized, exact', strings);
  await insert('search_reference', 'code, target_type, target_id', references);
}

/** Rewrites one resource's index rows; `resource` undefined (a deletion) only removes them. */
export async function reindexResource(db: Queryable, type: string, id: string, resource: Resource | undefined): Promise<void> {
  if (resource) {
    await reindexResources(db, [resource], true);
    return;
  }
  await db.query(
    `WITH t AS (DELETE FROM search_token WHERE resource_type = $1 AND id = $2),
          s AS (DELETE FROM search_string WHERE resource_type = $1 AND id = $2)
     DELETE FROM search_reference WHERE resource_type = $1 AND id = $2`,
    [type, id],
  );
}
