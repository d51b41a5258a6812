import type { Resource } from 'fhir/r4.js';
import type { Operation } from 'fast-json-patch';
import { assertMayModify, assertMayWrite, type Access } from '../access/access-policy.js';
import { isPartyData } from '../access/resource-classes.js';
import { assertCanModify, stampOwner } from '../auth/ownership.js';
import { inTransaction, type Database } from '../store/database.js';
import type { WriteContext } from '../workflow/write-context.js';
import { readResourceForUpdate, type UpdateResult } from '../store/resource-store.js';
import { existingMatch } from './conditional-create.js';
import { applyJsonPatchWithinLimits } from './json-patch-limits.js';
import { parseUpdate, type ValidatedResource } from './incoming-resource.js';
import { createResource, deleteResource, hasWriteEffects, updateResource } from './resource-writer.js';
import { badRequest, FhirError, issue, notFound } from './operation-outcome.js';

export interface CreateResult {
  resource: Resource;
  /** False when If-None-Exist found the resource already there and nothing was written. */
  created: boolean;
}

/**
 * FHIR create (POST [base]/[type]): store version 1, and any delivery it asks for, in one
 * transaction. With `ifNoneExist` (the If-None-Exist header) it is a conditional create.
 * `incoming` is the body parseIncomingResource accepted: the writer does not validate it again.
 */
export async function createOne(context: WriteContext, db: Database, incoming: ValidatedResource, ifNoneExist?: string, writer?: Access): Promise<CreateResult> {
  const resource = stampOwner(incoming, writer);
  await assertMayWrite(db, writer, resource, resource.resourceType);
  // Most creates are one statement, atomic by itself: no transaction round trips needed. Only a
  // condition to check or a write with effects (a referral to route, a subscriber to notify) needs more.
  if (!ifNoneExist && !hasWriteEffects(resource)) return { resource: await createResource(context, db, resource, { validated: true }), created: true };
  return inTransaction(db, async (client) => {
    if (ifNoneExist) {
      // Serialises conditional creates of one type, so two cannot both find nothing and both create.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`conditional-create:${resource.resourceType}`]);
      const existing = await existingMatch(client, resource.resourceType, ifNoneExist, writer);
      if (existing) return { resource: existing, created: false };
    }
    const stored = await createResource(context, client, await context.documents.prepareForStore(client, resource, resource.resourceType), { validated: true });
    return { resource: stored, created: true };
  });
}

/**
 * FHIR update (PUT [base]/[type]/[id]). The body's id must be the URL's (FHIR R4 http.html#update:
 * otherwise 400). Creates the resource when the id is new. `incoming` is the body parseUpdate accepted.
 */
export async function updateOne(context: WriteContext, db: Database, incoming: ValidatedResource, urlId: string, ifMatch: string | undefined, writer?: Access): Promise<UpdateResult<Resource>> {
  const resource = stampOwner(incoming, writer);
  if (resource.id !== urlId) throw badRequest(`the resource's id (${resource.id ?? 'none'}) must be the id in the URL (${urlId})`, [`${resource.resourceType}.id`]);
  return inTransaction(db, async (client) => {
    await assertMayWrite(client, writer, resource, resource.resourceType);
    await assertMayModify(client, writer, resource.resourceType, urlId);
    const prepared = await context.documents.prepareForStore(client, resource, resource.resourceType);
    return updateResource(context, client, { ...prepared, id: urlId }, { validated: true, ifMatch, guard: (current) => assertCanModify(current, writer) });
  });
}

/**
 * FHIR patch (PATCH [base]/[type]/[id]) with an RFC 6902 JSON Patch. The patched resource is
 * validated like any write; a patch that changes resourceType or id is refused.
 */
export async function patchOne(context: WriteContext, db: Database, type: string, id: string, patch: unknown, ifMatch: string | undefined, writer?: Access): Promise<UpdateResult<Resource>> {
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
    const resource = parseUpdate(context.validator, Object.keys(clientMeta).length > 0 ? { ...withoutMeta, meta: clientMeta } : withoutMeta, type, id);
    await assertMayWrite(client, writer, stampOwner(resource, writer), type);
    const prepared = await context.documents.prepareForStore(client, stampOwner(resource, writer), type);
    return updateResource(context, client, { ...prepared, id }, { validated: true, ifMatch });
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
