import type { BundleLink } from 'fhir/r4.js';
import { readableCondition, type Access } from '../access/access-policy.js';
import { filterCondition, SqlParameters } from './search-sql.js';
import { encodeCursor, type SearchCursor, type SearchRequest } from './search-request.js';

/** A statement and its parameters, ready for `db.query`. */
export interface SqlStatement {
  sql: string;
  values: unknown[];
}

/** The search's filters, and the access policy's: a search finds only what the caller may read. */
export function whereClause(request: SearchRequest, p: SqlParameters, access: Access): string {
  const conditions = [`r.resource_type = ${p.add(request.resourceType)}`, 'NOT r.deleted'];
  for (const filter of request.filters) conditions.push(filterCondition(request.resourceType, 'r', filter, p, access));
  if (access) conditions.push(readableCondition(access, 'r', p));
  return conditions.join(' AND ');
}

/** _summary=count: how many resources match, without reading any. */
export function searchCountStatement(request: SearchRequest, access: Access): SqlStatement {
  const p = new SqlParameters();
  const where = whereClause(request, p, access);
  return { sql: `SELECT count(*) AS total FROM resources r WHERE ${where}`, values: p.values };
}

/**
 * One page of a search, keyset-paged on the sort key and id: the rows after (or, for a previous
 * page, before) the cursor, one more than the page holds so the caller knows whether there are
 * more. A previous page is read backwards; `pageOfRows` puts it right again.
 */
export function searchPageStatement(request: SearchRequest, access: Access): SqlStatement {
  const p = new SqlParameters();
  const where = whereClause(request, p, access);
  const keyColumn = request.sort.by === '_id' ? 'r.id' : 'r.last_updated';
  const keyText = request.sort.by === '_id' ? 'r.id' : `to_char(r.last_updated AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;
  const backwards = request.cursor?.direction === 'previous';
  // Walking backwards for a previous page flips the order; the rows are put right afterwards.
  const descending = request.sort.descending !== backwards;
  let keyset = '';
  if (request.cursor) {
    const key = request.sort.by === '_id' ? request.cursor.key : `${request.cursor.key}Z`;
    const cast = request.sort.by === '_id' ? 'text' : 'timestamptz';
    keyset = ` AND (${keyColumn}, r.id) ${descending ? '<' : '>'} (${p.add(key)}::${cast}, ${p.add(request.cursor.id)})`;
  }
  const order = descending ? 'DESC' : 'ASC';
  const sql = `SELECT r.resource_type, r.id, r.content::text AS json, ${keyText} AS sort_key FROM resources r WHERE ${where}${keyset}
      ORDER BY ${keyColumn} ${order}, r.id ${order} LIMIT ${p.add(request.count + 1)}`;
  return { sql, values: p.values };
}

/** What paging needs of a row: its id and the text of its sort key. */
export interface PagedRow {
  id: string;
  sort_key: string;
}

/**
 * The page the rows of `searchPageStatement` make, in the requested order, and the Bundle links
 * around it: `self` always, `next` and `previous` with a cursor where there is more that way.
 */
export function pageOfRows<R extends PagedRow>(rows: R[], request: SearchRequest, typeUrl: string, selfQuery: string): { page: R[]; link: BundleLink[] } {
  const backwards = request.cursor?.direction === 'previous';
  const more = rows.length > request.count;
  const page = rows.slice(0, request.count);
  if (backwards) page.reverse();

  const withCursor = (cursor: SearchCursor) => {
    const query = new URLSearchParams(selfQuery);
    query.set('_cursor', encodeCursor(cursor));
    return `${typeUrl}?${query.toString()}`;
  };
  const first = page[0];
  const last = page.at(-1);
  const link: BundleLink[] = [{ relation: 'self', url: `${typeUrl}?${selfQuery}` }];
  const hasNext = backwards ? Boolean(request.cursor) : more;
  const hasPrevious = backwards ? more : Boolean(request.cursor);
  if (hasNext && last) link.push({ relation: 'next', url: withCursor({ key: last.sort_key, id: last.id, direction: 'next' }) });
  if (hasPrevious && first) link.push({ relation: 'previous', url: withCursor({ key: first.sort_key, id: first.id, direction: 'previous' }) });
  return { page, link };
}
