import type { Resource } from 'fhir/r4.js';
import type { Queryable } from '../store/database.js';
import { extractIndexValues } from './index-values.js';

/**
 * Writes the search index rows of resources; called inside the write's transaction, so a search
 * never sees a resource without its index, nor an index of a version that was rolled back.
 * `replace` first removes the rows of an earlier version (updates); new resources have none.
 */
export async function reindexResources(db: Queryable, resources: Resource[], replace: boolean): Promise<void> {
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
  // One statement, one round trip: the old rows go (for updates) and every new row comes in
  // through unnest(), however many values there are. Within one statement the DELETEs see the
  // table as it was, so they never remove the rows the INSERTs add.
  const parameters: unknown[] = [];
  const add = (value: unknown) => `$${parameters.push(value)}`;
  const parts: string[] = [];
  if (replace) {
    const types = add(resources.map((r) => r.resourceType));
    const ids = add(resources.map((r) => r.id!));
    parts.push(`doomed AS (SELECT * FROM unnest(${types}::text[], ${ids}::text[]) AS d(resource_type, id))`);
    for (const table of ['search_token', 'search_string', 'search_reference']) {
      parts.push(`del_${table} AS (DELETE FROM ${table} x USING doomed d WHERE x.resource_type = d.resource_type AND x.id = d.id)`);
    }
  }
  const insert = (table: string, names: string, rows: string[][]) => {
    if (rows[0]!.length === 0) return;
    const arrays = rows.map((column) => `${add(column)}::text[]`).join(', ');
    parts.push(`ins_${table} AS (INSERT INTO ${table} (resource_type, id, ${names}) SELECT * FROM unnest(${arrays}))`);
  };
  insert('search_token', 'code, system, value', tokens);
  insert('search_string', 'code, normalized, exact', strings);
  insert('search_reference', 'code, target_type, target_id', references);
  if (parts.length === 0) return;
  await db.query(`WITH ${parts.join(',\n')} SELECT 1`, parameters);
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
