import type { Resource } from 'fhir/r4.js';
import type { Queryable } from '../store/database.js';
import { extractIndexValues } from './index-values.js';

/**
 * The WITH-clause parts that write the index rows of `resources` (and, with `replace`, remove
 * those of their earlier versions), using `add` to place parameters. Put into the same
 * statement as the resource rows, a write costs one round trip. Within one statement the
 * DELETEs see the tables as they were, so they never remove the rows the INSERTs add.
 */
export function indexWriteCtes(resources: Resource[], replace: boolean, add: (value: unknown) => string): string[] {
  const columns = (): string[][] => [[], [], [], [], []];
  const tokens = columns();
  const strings = columns();
  const references = columns();
  const push = (into: Array<Array<string | null>>, values: Array<string | null>) => values.forEach((v, i) => into[i]!.push(v));
  for (const resource of resources) {
    const owner = [resource.resourceType, resource.id!];
    const values = extractIndexValues(resource);
    for (const t of values.tokens) push(tokens, [...owner, t.code, t.system, t.value]);
    for (const s of values.strings) push(strings, [...owner, s.code, s.normalized, s.exact]);
    for (const r of values.references) push(references, [...owner, r.code, r.targetType, r.targetId]);
  }
  const parts: string[] = [];
  if (replace) {
    const types = add(resources.map((r) => r.resourceType));
    const ids = add(resources.map((r) => r.id!));
    parts.push(`doomed AS (SELECT * FROM unnest(${types}::text[], ${ids}::text[]) AS d(resource_type, id))`);
    for (const table of ['search_token', 'search_string', 'search_reference']) {
      parts.push(`del_${table} AS (DELETE FROM ${table} x USING doomed d WHERE x.resource_type = d.resource_type AND x.id = d.id)`);
    }
  }
  // unnest() inserts every row of a kind at once, however many there are.
  const insert = (table: string, names: string, rows: string[][]) => {
    if (rows[0]!.length === 0) return;
    const arrays = rows.map((column) => `${add(column)}::text[]`).join(', ');
    parts.push(`ins_${table} AS (INSERT INTO ${table} (resource_type, id, ${names}) SELECT * FROM unnest(${arrays}))`);
  };
  insert('search_token', 'code, system, value', tokens);
  insert('search_string', 'code, normalized, exact', strings);
  insert('search_reference', 'code, target_type, target_id', references);
  return parts;
}

/**
 * Rewrites the search index rows of resources, inside the write's transaction, so a search never
 * sees a resource without its index, nor an index of a version that was rolled back.
 */
export async function reindexResources(db: Queryable, resources: Resource[], replace: boolean): Promise<void> {
  const parameters: unknown[] = [];
  const parts = indexWriteCtes(resources, replace, (value) => `$${parameters.push(value)}`);
  if (parts.length > 0) await db.query(`WITH ${parts.join(',\n')} SELECT 1`, parameters);
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
