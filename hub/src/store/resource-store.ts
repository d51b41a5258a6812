import { randomUUID } from 'node:crypto';
import type { Resource } from 'fhir/r4.js';
import { assertFhirId, couldBeStoredId } from '../fhir/fhir-id.js';
import { FhirError, issue, notFound } from '../fhir/operation-outcome.js';
import { refreshAccessGrants } from '../access/access-grants.js';
import { readableCondition, type Access } from '../access/access-policy.js';
import { indexWriteCtes, reindexResource } from '../search/search-index-writer.js';
import type { Queryable } from './database.js';

interface ResourceRow {
  version_id: number;
  last_updated: Date;
  deleted: boolean;
  content: Resource;
}

function withMeta<T extends Resource>(resource: T, id: string, versionId: number, lastUpdated: Date): T {
  return { ...resource, id, meta: { ...resource.meta, versionId: String(versionId), lastUpdated: lastUpdated.toISOString() } };
}

/** Postgres unique_violation: two writers created the same id at once. */
const UNIQUE_VIOLATION = '23505';

function conflictOnRace(error: unknown): never {
  if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
    throw new FhirError(409, [issue('conflict', 'another request wrote this resource at the same time; retry')]);
  }
  throw error;
}

/**
 * Stores new resources as version 1, all in a few multi-row statements (a 1,000-entry
 * transaction costs about as many round trips as one create). Ids are server-assigned
 * (FHIR R4 http.html#create: the server ignores any id the client sent); pass one only for ids
 * the hub itself assigned, e.g. those resolved from urn:uuid references in a transaction.
 */
export async function createResources<T extends Resource>(db: Queryable, items: Array<{ resource: T; id?: string | undefined }>): Promise<T[]> {
  if (items.length === 0) return [];
  const lastUpdated = new Date();
  const stored = items.map(({ resource, id }) => withMeta(resource, id ?? randomUUID(), 1, lastUpdated));
  const parameters: unknown[] = [
    stored.map((r) => r.resourceType),
    stored.map((r) => r.id),
    stored.map((r) => JSON.stringify(r)),
    lastUpdated,
  ];
  const indexParts = indexWriteCtes(stored, false, (value) => `$${parameters.push(value)}`);
  // Resource, history and index rows in one statement: atomic on its own, one round trip.
  await db
    .query(
      `WITH rows AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS r(resource_type, id, content)
       ), current AS (
         INSERT INTO resources (resource_type, id, version_id, last_updated, content) SELECT resource_type, id, 1, $4, content FROM rows
       ), history AS (
         INSERT INTO resource_history (resource_type, id, version_id, last_updated, content) SELECT resource_type, id, 1, $4, content FROM rows
       )${indexParts.map((part) => `, ${part}`).join('')}
       SELECT 1`,
      parameters,
    )
    .catch(conflictOnRace);
  await refreshAccessGrants(db, stored);
  return stored;
}

/** One create; see createResources. */
export async function createResource<T extends Resource>(db: Queryable, resource: T, id?: string): Promise<T> {
  return (await createResources(db, [{ resource, id }]))[0]!;
}

async function readRow(db: Queryable, type: string, id: string, lock: boolean): Promise<ResourceRow | undefined> {
  if (!couldBeStoredId(id)) return undefined;
  const result = await db.query<ResourceRow>(
    `SELECT version_id, last_updated, deleted, content FROM resources WHERE resource_type = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`,
    [type, id],
  );
  return result.rows[0];
}

/**
 * Whether anything (a current version or a deletion) is stored under this id: an id the FHIR id
 * pattern refuses is looked up only if it is (decision 0003).
 */
export async function isStoredId(db: Queryable, type: string, id: string): Promise<boolean> {
  return (await readRow(db, type, id, false)) !== undefined;
}

/** The current version; 404 if it never existed, 410 if it was deleted (FHIR R4 http.html#read). */
export async function readResource<T extends Resource = Resource>(db: Queryable, type: string, id: string): Promise<T> {
  const row = await readRow(db, type, id, false);
  if (!row) throw notFound(`${type}/${id} does not exist`);
  if (row.deleted) throw new FhirError(410, [issue('deleted', `${type}/${id} was deleted`)]);
  return row.content as T;
}

/** Like readResource, but undefined instead of an error, for lookups that may miss. */
export async function findResource<T extends Resource = Resource>(db: Queryable, type: string, id: string): Promise<T | undefined> {
  const row = await readRow(db, type, id, false);
  return row && !row.deleted ? (row.content as T) : undefined;
}

export async function readResourceVersion<T extends Resource = Resource>(
  db: Queryable,
  type: string,
  id: string,
  versionId: string,
): Promise<T> {
  const result = couldBeStoredId(id) && /^\d{1,9}$/.test(versionId)
    ? await db.query<ResourceRow>(
        'SELECT version_id, last_updated, deleted, content FROM resource_history WHERE resource_type = $1 AND id = $2 AND version_id = $3',
        [type, id, Number(versionId)],
      )
    : { rows: [] };
  const row = result.rows[0];
  if (!row) throw notFound(`${type}/${id}/_history/${versionId} does not exist`);
  if (row.deleted) throw new FhirError(410, [issue('deleted', `${type}/${id} version ${versionId} is a deletion`)]);
  return row.content as T;
}

/**
 * Reads the current version and locks it until the transaction ends; use it to read what an
 * update will change, so no concurrent write slips in between.
 */
export async function readResourceForUpdate<T extends Resource = Resource>(db: Queryable, type: string, id: string): Promise<T> {
  const row = await readRow(db, type, id, true);
  if (!row || row.deleted) throw notFound(`${type}/${id} does not exist`);
  return row.content as T;
}

async function writeVersion(
  db: Queryable,
  type: string,
  id: string,
  versionId: number,
  content: Resource,
  deleted: boolean,
  lastUpdated: Date,
  previous?: Resource,
): Promise<void> {
  await db
    .query(
      `WITH current AS (
         INSERT INTO resources (resource_type, id, version_id, last_updated, deleted, content) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (resource_type, id) DO UPDATE SET version_id = $3, last_updated = $4, deleted = $5, content = $6
       )
       INSERT INTO resource_history (resource_type, id, version_id, last_updated, deleted, content) VALUES ($1, $2, $3, $4, $5, $6)`,
      [type, id, versionId, lastUpdated, deleted, content],
    )
    .catch(conflictOnRace);
  await reindexResource(db, type, id, deleted ? undefined : content);
  if (!deleted) await refreshAccessGrants(db, [content], previous);
}

/** Checks the current version (locked) before it is replaced or deleted; throws to refuse. */
export type WriteGuard = (current: Resource) => void;

export interface UpdateResult<T> {
  resource: T;
  /** The version before this write; undefined when the update created the resource. */
  previous: T | undefined;
}

/**
 * Writes a new version (FHIR R4 http.html#update). Must run inside a transaction: the current
 * row is locked, so concurrent writers queue instead of losing each other's change.
 * - `ifMatch` (the version the client last saw, from If-Match) must equal the current version,
 *   else 412 (http.html#concurrency);
 * - an id that does not exist yet, or was deleted, is created (update as create), if it is a FHIR
 *   id: one an earlier hub stored under a refused id is updated, never created again (decision 0003).
 */
export async function updateResource<T extends Resource>(
  db: Queryable,
  resource: T & { id: string },
  options: { ifMatch?: string | undefined; guard?: WriteGuard } = {},
): Promise<UpdateResult<T>> {
  const row = await readRow(db, resource.resourceType, resource.id, true);
  const current = row && !row.deleted ? row : undefined;
  // Update as create would otherwise store a new resource under whatever id it was given.
  if (!current) assertFhirId(resource.id, `${resource.resourceType}.id`);
  if (current) options.guard?.(current.content);
  if (options.ifMatch !== undefined && String(current?.version_id) !== options.ifMatch) {
    throw new FhirError(412, [
      issue('conflict', `If-Match W/"${options.ifMatch}" does not match the current version${current ? ` W/"${current.version_id}"` : ' (none)'}`),
    ]);
  }
  const versionId = (row?.version_id ?? 0) + 1;
  const lastUpdated = new Date();
  const stored = withMeta(resource, resource.id, versionId, lastUpdated);
  await writeVersion(db, resource.resourceType, resource.id, versionId, stored, false, lastUpdated, current?.content);
  return { resource: stored, previous: current?.content as T | undefined };
}

/**
 * Deletes a resource (FHIR R4 http.html#delete): a new version marked deleted, so history keeps
 * every earlier version and a read answers 410 Gone. Deleting what does not exist, or is
 * already deleted, changes nothing. Returns the deletion's version, if one was written.
 */
export async function deleteResource(db: Queryable, type: string, id: string, guard?: WriteGuard): Promise<string | undefined> {
  const row = await readRow(db, type, id, true);
  if (!row || row.deleted) return undefined;
  guard?.(row.content);
  const versionId = row.version_id + 1;
  const lastUpdated = new Date();
  const tombstone = withMeta({ resourceType: type, id } as Resource, id, versionId, lastUpdated);
  await writeVersion(db, type, id, versionId, tombstone, true, lastUpdated);
  return String(versionId);
}

export interface HistoryEntry {
  resource: Resource;
  versionId: string;
  lastUpdated: string;
  deleted: boolean;
}

/** The latest versions written of any resource of a type that the caller may read, newest first (type-level history). */
export async function readTypeHistory(db: Queryable, type: string, count: number, access: Access): Promise<HistoryEntry[]> {
  const values: unknown[] = [type, count];
  const readable = readableCondition(access, 'h', { add: (value) => `$${values.push(value)}` });
  const result = await db.query<ResourceRow & { id: string }>(
    `SELECT id, version_id, last_updated, deleted, content FROM resource_history h
      WHERE resource_type = $1 AND ${readable} ORDER BY last_updated DESC, id, version_id DESC LIMIT $2`,
    values,
  );
  return result.rows.map((row) => ({
    resource: row.content,
    versionId: String(row.version_id),
    lastUpdated: row.last_updated.toISOString(),
    deleted: row.deleted,
  }));
}

/** Every version of one resource, newest first (FHIR R4 http.html#history). 404 if it never existed. */
export async function readHistory(db: Queryable, type: string, id: string, count: number): Promise<HistoryEntry[]> {
  const result = couldBeStoredId(id)
    ? await db.query<ResourceRow>(
        `SELECT version_id, last_updated, deleted, content FROM resource_history
          WHERE resource_type = $1 AND id = $2 ORDER BY version_id DESC LIMIT $3`,
        [type, id, count],
      )
    : { rows: [] };
  if (result.rows.length === 0) throw notFound(`${type}/${id} does not exist`);
  return result.rows.map((row) => ({
    resource: row.content,
    versionId: String(row.version_id),
    lastUpdated: row.last_updated.toISOString(),
    deleted: row.deleted,
  }));
}

/** Resources of one type whose JSON contains `fragment` (jsonb @>), e.g. all roles of a practitioner. */
export async function findResourcesContaining<T extends Resource>(db: Queryable, type: string, fragment: object): Promise<T[]> {
  const result = await db.query<{ content: T }>(
    'SELECT content FROM resources WHERE resource_type = $1 AND NOT deleted AND content @> $2::jsonb ORDER BY id',
    [type, JSON.stringify(fragment)],
  );
  return result.rows.map((r) => r.content);
}
