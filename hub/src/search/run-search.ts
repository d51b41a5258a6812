import type { Bundle, OperationOutcome, Resource } from 'fhir/r4.js';
import { readableCondition, readableTypes, type Access } from '../access/access-policy.js';
import { badRequest } from '../fhir/operation-outcome.js';
import type { Queryable } from '../store/database.js';
import { SqlParameters } from './search-sql.js';
import { pageOfRows, searchCountStatement, searchPageStatement, whereClause } from './search-page.js';
import type { IncludeRequest, SearchRequest } from './search-request.js';

/**
 * A stored resource as the database's JSON text. Search answers are assembled from these
 * texts instead of parsing every resource into objects only to serialise it again.
 */
interface RawResource {
  resource_type: string;
  id: string;
  json: string;
}
interface Row extends RawResource {
  sort_key: string;
}

/** _elements: the named top-level elements plus what every resource needs; marked SUBSETTED (FHIR R4 search.html#elements). */
function subset(resource: Resource, elements: string[]): Resource {
  const keep = new Set(['resourceType', 'id', 'meta', ...elements]);
  const trimmed = Object.fromEntries(Object.entries(resource).filter(([k]) => keep.has(k))) as unknown as Resource;
  const tag = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };
  return { ...trimmed, meta: { ...resource.meta, tag: [...(resource.meta?.tag ?? []), tag] } };
}

/**
 * The resources an _include or _revinclude adds: only those the caller may read, of types its
 * scopes let it read (a PractitionerRole reader gets no Tasks through _revinclude).
 */
async function included(db: Queryable, ids: string[], request: SearchRequest, include: IncludeRequest, reverse: boolean, access: Access): Promise<RawResource[]> {
  const p = new SqlParameters();
  const allowed = access ? ` AND r.resource_type = ANY(${p.add(readableTypes(access))}::text[]) AND ${readableCondition(access, 'r', p)}` : '';
  const sql = reverse
    ? // _revinclude: resources of sourceType whose reference points at a page resource
      `SELECT r.resource_type, r.id, r.content::text AS json FROM search_reference x JOIN resources r ON r.resource_type = x.resource_type AND r.id = x.id AND NOT r.deleted
        WHERE x.resource_type = ${p.add(include.sourceType)} AND x.code = ${p.add(include.reference.code)}
          AND x.target_type = ${p.add(request.resourceType)} AND x.target_id = ANY(${p.add(ids)}::text[])${allowed}`
    : // _include: the resources a page resource's reference points at
      `SELECT r.resource_type, r.id, r.content::text AS json FROM search_reference x JOIN resources r ON r.resource_type = x.target_type AND r.id = x.target_id AND NOT r.deleted
        WHERE x.resource_type = ${p.add(request.resourceType)} AND x.code = ${p.add(include.reference.code)}
          AND x.id = ANY(${p.add(ids)}::text[])${include.targetType ? ` AND x.target_type = ${p.add(include.targetType)}` : ''}${allowed}`;
  return (await db.query<RawResource>(sql, p.values)).rows;
}

/**
 * The resources a search matches, at most `limit` of them, unordered: for conditional
 * interactions (If-None-Exist), which only need to know whether there are none, one or several.
 */
export async function findMatches(db: Queryable, request: SearchRequest, limit: number, access: Access): Promise<Resource[]> {
  if (request.unknown.length > 0) throw badRequest(`unknown search parameters in the condition: ${request.unknown.join(', ')}`, request.unknown);
  const p = new SqlParameters();
  const where = whereClause(request, p, access);
  const { rows } = await db.query<{ content: Resource }>(`SELECT r.content FROM resources r WHERE ${where} LIMIT ${p.add(limit)}`, p.values);
  return rows.map((r) => r.content);
}

function warnings(unknown: string[]): OperationOutcome | undefined {
  if (unknown.length === 0) return undefined;
  return {
    resourceType: 'OperationOutcome',
    issue: unknown.map((name) => ({ severity: 'warning', code: 'not-supported', diagnostics: `search parameter ${name} is not supported and was ignored` })),
  };
}

interface SearchEntry {
  fullUrl?: string;
  /** The resource as JSON text. */
  json: string;
  mode: 'match' | 'include' | 'outcome';
}

/** The searchset Bundle as JSON text, the entries' resources spliced in as stored. */
function renderSearchset(head: Bundle, entries: SearchEntry[]): string {
  const bundle = JSON.stringify(head);
  if (entries.length === 0) return bundle;
  const rendered = entries.map(
    (e) => `{${e.fullUrl ? `"fullUrl":${JSON.stringify(e.fullUrl)},` : ''}"resource":${e.json},"search":{"mode":"${e.mode}"}}`,
  );
  return `${bundle.slice(0, -1)},"entry":[${rendered.join(',')}]}`;
}

/**
 * Runs a search and answers with a searchset Bundle, as JSON text. Pages are keyset-paged on the sort key
 * and id, so `next`/`previous` links stay stable while resources are written and never need an
 * OFFSET or a COUNT over the whole result. Bundle.total is given only for _summary=count.
 */
export async function runSearch(db: Queryable, request: SearchRequest, baseUrl: string, strict: boolean, selfQuery: string, access: Access): Promise<string> {
  if (strict && request.unknown.length > 0) {
    throw badRequest(`unknown search parameters (Prefer: handling=strict): ${request.unknown.join(', ')}`, request.unknown);
  }
  const typeUrl = `${baseUrl}/fhir/${request.resourceType}`;
  const outcome = warnings(request.unknown);
  if (request.summaryCount) {
    const count = searchCountStatement(request, access);
    const { rows } = await db.query<{ total: string }>(count.sql, count.values);
    return JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: Number(rows[0]!.total), link: [{ relation: 'self', url: `${typeUrl}?${selfQuery}` }] });
  }

  const statement = searchPageStatement(request, access);
  const { rows } = await db.query<Row>(statement.sql, statement.values);
  const { page, link } = pageOfRows(rows, request, typeUrl, selfQuery);

  const ids = page.map((r) => r.id);
  const extra: RawResource[] = [];
  if (ids.length > 0) {
    for (const include of request.include) extra.push(...(await included(db, ids, request, include, false, access)));
    for (const include of request.revinclude) extra.push(...(await included(db, ids, request, include, true, access)));
  }
  const seen = new Set(page.map((r) => `${r.resource_type}/${r.id}`));
  const entries: SearchEntry[] = page.map((r) => ({
    fullUrl: `${baseUrl}/fhir/${r.resource_type}/${r.id}`,
    json: request.elements ? JSON.stringify(subset(JSON.parse(r.json) as Resource, request.elements)) : r.json,
    mode: 'match',
  }));
  for (const resource of extra) {
    const key = `${resource.resource_type}/${resource.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    entries.push({ fullUrl: `${baseUrl}/fhir/${key}`, json: resource.json, mode: 'include' });
  }
  if (outcome) entries.push({ json: JSON.stringify(outcome), mode: 'outcome' });
  return renderSearchset({ resourceType: 'Bundle', type: 'searchset', link }, entries);
}
