import type { Resource } from 'fhir/r4.js';
import type { Operation } from 'fast-json-patch';
import { assertMayModify, assertMayWrite, type Access } from '../access/access-policy.js';
import { isPartyData } from '../access/resource-classes.js';
import { assertCanModify, stampOwner } from '../auth/ownership.js';
import { inTransaction, type Database } from '../store/database.js';
import { applyWriteEffects, hasWriteEffects } from '../workflow/write-effects.js';
import { prepareForStore } from '../documents/document-store.js';
import { createResource, deleteResource, readResourceForUpdate, updateResource, type UpdateResult } from '../store/resource-store.js';
import { existingMatch } from './conditional-create.js';
import { isFhirId } from './fhir-id.js';
import { applyJsonPatchWithinLimits } from './json-patch-limits.js';
import { parseIncomingResource } from './incoming-resource.js';
import { badRequest, FhirError, issue, notFound } from './operation-outcome.js';

export interface CreateResult {
  resource: Resource;
  /** False when If-None-Exist found the resource already there and nothing was written. */
  created: boolean;
}

/**
 * FHIR create (POST [base]/[type]): store version 1, and any delivery it asks for, in one
 * transaction. With `ifNoneExist` (the If-None-Exist header) it is a conditional create.
 */
export async function createOne(db: Database, incoming: Resource, ifNoneExist?: string, writer?: Access): Promise<CreateResult> {
  const resource = stampOwner(incoming, writer);
  await assertMayWrite(db, writer, resource, resource.resourceType);
  // Most creates are one statement, atomic by itself: no transaction round trips needed. Only a
  // condition to check or a write with effects (a referral to route, a subscriber to notify) needs more.
  if (!ifNoneExist && !hasWriteEffects(resource)) return { resource: await createResource(db, resource), created: true };
  return inTransaction(db, async (client) => {
    if (ifNoneExist) {
      // Serialises conditional creates of one type, so two cannot both find nothing and both create.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`conditional-create:${resource.resourceType}`]);
      const existing = await existingMatch(client, resource.resourceType, ifNoneExist, writer);
      if (existing) return { resource: existing, created: false };
    }
    const stored = await createResource(client, await prepareForStore(client, resource, resource.resourceType));
    await applyWriteEffects(client, stored, stored.resourceType);
    return { resource: stored, created: true };
  });
}

/**
 * Parses the body of an update (or the result of a patch) of `type`/`id`. An id the FHIR id
 * pattern refuses is set aside while the body is validated when it is the id in the URL: it is
 * then the key of a resource an earlier hub stored (decision 0003), not a new id, and
 * updateResource refuses it unless that resource exists. Contained and other ids are checked as ever.
 */
export function parseUpdate(body: unknown, type: string, id: string): Resource {
  const claimsId = typeof body === 'object' && body !== null && (body as { id?: unknown }).id === id;
  if (isFhirId(id) || !claimsId) return parseIncomingResource(body, type);
  const { id: _storedId, ...withoutId } = body as Resource;
  const { resourceType, ...parsed } = parseIncomingResource(withoutId, type);
  return { resourceType, id, ...parsed } as Resource;
}

/**
 * FHIR update (PUT [base]/[type]/[id]). The body's id must be the URL's (FHIR R4 http.html#update:
 * otherwise 400). Creates the resource when the id is new.
 */
export async function updateOne(db: Database, incoming: Resource, urlId: string, ifMatch: string | undefined, writer?: Access): Promise<UpdateResult<Resource>> {
  const resource = stampOwner(incoming, writer);
  if (resource.id !== urlId) throw badRequest(`the resource's id (${resource.id ?? 'none'}) must be the id in the URL (${urlId})`, [`${resource.resourceType}.id`]);
  return inTransaction(db, async (client) => {
    await assertMayWrite(client, writer, resource, resource.resourceType);
    await assertMayModify(client, writer, resource.resourceType, urlId);
    const prepared = await prepareForStore(client, resource, resource.resourceType);
    const result = await updateResource(client, { ...prepared, id: urlId }, { ifMatch, guard: (current) => assertCanModify(current, writer) });
    await applyWriteEffects(client, result.resource, resource.resourceType, result.previous);
    return result;
  });
}

/**
 * FHIR patch (PATCH [base]/[type]/[id]) with an RFC 6902 JSON Patch. The patched resource is
 * validated like any write; a patch that changes resourceType or id is refused.
 */
export async function patchOne(db: Database, type: string, id: string, patch: unknown, ifMatch: string | undefined, writer?: Access): Promise<UpdateResult<Resource>> {
  if (!Array.isArray(patch)) throw badRequest('a JSON Patch body is an array of operations (RFC 6902)');
  return inTransaction(db, async (client) => {
    await assertMayModify(client, writer, type, id);
    const current = await readResourceForUpdate(client, type, id);
    assertCanModify(current, writer);
    let patched: Resource;
    try {
      patched = applyJsonPatchWithinLimits(structuredClone(current), patch as Operation[]);
    } catch (error) {
      if (error instanceof FhirError) throw error;
      throw new FhirError(422, [issue('processing', `the patch cannot be applied: ${(error as Error).message}`)]);
    }
    if (patched.resourceType !== type || patched.id !== id) throw badRequest('a patch may not change resourceType or id');
    // The server owns versionId and lastUpdated; a patch cannot set them.
    const { meta, ...withoutMeta } = patched;
    const { versionId: _versionId, lastUpdated: _lastUpdated, ...clientMeta } = meta ?? {};
    const resource = parseUpdate(Object.keys(clientMeta).length > 0 ? { ...withoutMeta, meta: clientMeta } : withoutMeta, type, id);
    await assertMayWrite(client, writer, stampOwner(resource, writer), type);
    const result = await updateResource(client, { ...(await prepareForStore(client, stampOwner(resource, writer), type)), id }, { ifMatch });
    await applyWriteEffects(client, result.resource, type, result.previous);
    return result;
  });
}

/** FHIR delete (DELETE [base]/[type]/[id]); the version written, if anything was deleted. */
export async function deleteOne(db: Database, type: string, id: string, writer?: Access): Promise<string | undefined> {
  return inTransaction(db, async (client) => {
    await assertMayModify(client, writer, type, id);
    const version = await deleteResource(client, type, id, (current) => assertCanModify(current, writer));
    // Under the access policy a missing id answers like an unreadable one, so DELETE tells no one which ids others hold.
    if (!version && writer && isPartyData(type)) throw notFound(`${type}/${id} does not exist`);
    return version;
  });
}
