import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, BundleEntryResponse, Resource } from 'fhir/r4.js';
import { assertMayModify, assertMayRead, assertMayWrite, type Access } from '../access/access-policy.js';
import { assertCanModify, stampOwner } from '../auth/ownership.js';
import type { WriteContext } from '../workflow/write-context.js';
import { inTransaction, type Database, type DatabaseClient } from '../store/database.js';
import { readResource } from '../store/resource-store.js';
import { existingMatch } from './conditional-create.js';
import { parseIncomingResource, type ValidatedResource } from './incoming-resource.js';
import { createResources, DeferredEffects, deleteResource, updateResource } from './resource-writer.js';
import { badRequest, FhirError } from './operation-outcome.js';
import { isSupportedResourceType } from './supported-resources.js';
import { assertCodesKnownToTerminologyServer, type TerminologyServer } from './validation/terminology-server.js';
import { FHIR_ID_CHARACTERS } from './fhir-id.js';

/** `Type` or `Type/id`, as a transaction entry's request.url names its target. */
const ENTRY_URL = new RegExp(`^([A-Za-z]+)(?:/(${FHIR_ID_CHARACTERS}))?$`);

/** Largest Bundle accepted: a county's directory loads in Bundles of 1,000 entries. */
export const MAX_BUNDLE_ENTRIES = 5000;
/** Issues a batch's answer lists in all; past it, each failing entry still gets its first issue. */
const MAX_BATCH_ISSUES = 1000;

export type Method = 'POST' | 'PUT' | 'DELETE' | 'GET';
/** FHIR R4 http.html#trules: a transaction runs DELETEs, then POSTs, then PUTs, then GETs. */
const TRANSACTION_ORDER: Method[] = ['DELETE', 'POST', 'PUT', 'GET'];

export interface Target {
  type: string;
  id: string | undefined;
}

function entryPath(index: number): string {
  return `Bundle.entry[${index}]`;
}

/** Prefixes every issue of a FhirError with the entry it is about. */
function aboutEntry(error: unknown, index: number): never {
  if (error instanceof FhirError) {
    throw new FhirError(
      error.status,
      error.issues.map((i) => ({ ...i, diagnostics: `${entryPath(index)}: ${i.diagnostics ?? i.details?.text ?? i.code}` })),
    );
  }
  throw error;
}

export function methodOf(entry: BundleEntry, index: number): Method {
  const method = entry.request?.method;
  if (method === 'POST' || method === 'PUT' || method === 'DELETE' || method === 'GET') return method;
  throw badRequest(`${entryPath(index)}: request.method ${method ?? '(none)'} is not supported (POST, PUT, DELETE, GET)`, [
    `${entryPath(index)}.request.method`,
  ]);
}

/** `Type` or `Type/id` from request.url (query strings are not supported here). */
export function targetOf(entry: BundleEntry, index: number, method: Method): Target {
  const url = (entry.request?.url ?? '').split('?')[0]!;
  const match = url.match(ENTRY_URL);
  if (!match || !isSupportedResourceType(match[1]!)) throw badRequest(`${entryPath(index)}: request.url ${url} names no supported type`, [`${entryPath(index)}.request.url`]);
  if (method !== 'POST' && !match[2]) throw badRequest(`${entryPath(index)}: ${method} needs request.url Type/id`, [`${entryPath(index)}.request.url`]);
  return { type: match[1]!, id: match[2] };
}

/**
 * A urn:uuid or urn:oid reference left after resolution names no entry of the Bundle: stored,
 * it would point nowhere (FHIR R4 bundle.html#references), so the transaction is refused.
 */
export function assertNoUnresolvedReferences(value: unknown, path: string): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertNoUnresolvedReferences(v, `${path}[${i}]`));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, v] of Object.entries(value)) {
    if (key === 'reference' && typeof v === 'string' && /^urn:(uuid|oid):/.test(v)) {
      throw badRequest(`${path}.reference ${v} names no entry of this Bundle (no entry has it as fullUrl)`, [`${path}.reference`]);
    }
    assertNoUnresolvedReferences(v, `${path}.${key}`);
  }
}

/** Replaces every `reference` that names a Bundle entry's fullUrl with that entry's Type/id. */
export function resolveReferences(value: unknown, targets: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, targets));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) =>
      key === 'reference' && typeof v === 'string' && targets.has(v) ? [key, targets.get(v)] : [key, resolveReferences(v, targets)],
    ),
  );
}

/**
 * What each entry's fullUrl stands for once stored (FHIR R4 bundle.html#references): a POST's
 * `Type/newId` (the id chosen for it, or the match a conditional create found), a PUT's
 * `Type/id` from its request.url. DELETE and GET entries are not targets.
 */
export function referenceTargetsOf(entries: BundleEntry[], methods: Method[], targets: Target[], newIds: Array<string | undefined>): Map<string, string> {
  const references = new Map<string, string>();
  for (const [index, entry] of entries.entries()) {
    const { type, id } = targets[index]!;
    if (methods[index] === 'POST') {
      if (entry.fullUrl) references.set(entry.fullUrl, `${type}/${newIds[index]}`);
    } else if (methods[index] === 'PUT' && entry.fullUrl) {
      references.set(entry.fullUrl, `${type}/${id}`);
    }
  }
  return references;
}

/** The entries of each method, in the order a transaction runs them (FHIR R4 http.html#trules), each group in Bundle order. */
export function transactionRunOrder(methods: Method[]): Array<{ method: Method; indices: number[] }> {
  return TRANSACTION_ORDER.map((method) => ({ method, indices: [...methods.keys()].filter((index) => methods[index] === method) }));
}

function writtenResponse(resource: Resource, status: string): BundleEntryResponse {
  return {
    status,
    location: `${resource.resourceType}/${resource.id}/_history/${resource.meta!.versionId}`,
    etag: `W/"${resource.meta!.versionId}"`,
    lastModified: resource.meta!.lastUpdated!,
  };
}

interface Outcome {
  resource?: Resource;
  response: BundleEntryResponse;
}

/**
 * One DELETE, GET or PUT entry (the `index`th), inside the transaction; `resource` has its
 * references resolved and was validated. Its effects wait in `effects` for the other entries.
 */
async function runEntry(
  context: WriteContext,
  client: DatabaseClient,
  effects: DeferredEffects,
  index: number,
  method: Exclude<Method, 'POST'>,
  target: Target,
  resource: ValidatedResource | undefined,
  entry: BundleEntry,
  writer: Access,
): Promise<Outcome> {
  const guard = (current: Resource) => assertCanModify(current, writer);
  if (method === 'GET') await assertMayRead(client, writer, target.type, target.id!);
  else await assertMayModify(client, writer, target.type, target.id!);
  switch (method) {
    case 'DELETE': {
      const version = await deleteResource(client, target.type, target.id!, guard);
      return { response: { status: version ? '204' : '200', ...(version ? { etag: `W/"${version}"` } : {}) } };
    }
    case 'GET': {
      const found = await readResource(client, target.type, target.id!);
      return { resource: found, response: { status: '200', etag: `W/"${found.meta!.versionId}"` } };
    }
    case 'PUT': {
      if (resource!.id !== target.id) throw badRequest(`the resource's id must be the id in request.url (${target.id})`, ['id']);
      const ifMatch = entry.request?.ifMatch?.match(/^(?:W\/)?"([^"]+)"$/)?.[1];
      const result = await updateResource(context, client, { ...stampOwner(resource!, writer), id: target.id! }, {
        validated: true,
        ifMatch,
        guard,
        entryPath: `${entryPath(index)}.resource`,
        deferTo: { effects, key: index },
      });
      return { resource: result.resource, response: writtenResponse(result.resource, result.previous ? '200 OK' : '201 Created') };
    }
  }
}

/**
 * A transaction (FHIR R4 http.html#transaction): all entries succeed or none is stored.
 * Conditional creates are resolved first, then every POST gets its id and urn:uuid references
 * are rewritten, every resource is validated, and only then is anything written.
 */
async function processTransaction(context: WriteContext, db: Database, entries: BundleEntry[], writer: Access, terminologyServer?: TerminologyServer): Promise<BundleEntry[]> {
  return inTransaction(db, (client) => processTransactionEntries(context, client, entries, writer, terminologyServer));
}

/** A transaction's entries, in the caller's database transaction (used by $process-message too). */
export async function processTransactionEntries(context: WriteContext, client: DatabaseClient, entries: BundleEntry[], writer: Access, terminologyServer?: TerminologyServer): Promise<BundleEntry[]> {
  const methods = entries.map((entry, index) => methodOf(entry, index));
  const targets = entries.map((entry, index) => targetOf(entry, index, methods[index]!));
  {
    const outcomes: Array<Outcome | undefined> = entries.map(() => undefined);
    const newIds: Array<string | undefined> = entries.map(() => undefined);
    for (const [index, entry] of entries.entries()) {
      const { type } = targets[index]!;
      if (methods[index] === 'POST') {
        const existing = entry.request?.ifNoneExist ? await existingMatch(client, type, entry.request.ifNoneExist, writer).catch((e: unknown) => aboutEntry(e, index)) : undefined;
        if (existing) outcomes[index] = { resource: existing, response: { status: '200 OK', location: `${type}/${existing.id}`, etag: `W/"${existing.meta!.versionId}"` } };
        newIds[index] = existing?.id ?? randomUUID();
      }
    }
    const references = referenceTargetsOf(entries, methods, targets, newIds);
    const resources: Array<ValidatedResource | undefined> = [];
    for (const [index, entry] of entries.entries()) {
      if (methods[index] !== 'POST' && methods[index] !== 'PUT') {
        resources.push(undefined);
        continue;
      }
      try {
        const resolved = resolveReferences(entry.resource, references);
        assertNoUnresolvedReferences(resolved, `${entryPath(index)}.resource`);
        const resource = parseIncomingResource(context.validator, resolved, targets[index]!.type);
        await assertCodesKnownToTerminologyServer(resource, terminologyServer);
        resources.push(resource);
      } catch (error) {
        aboutEntry(error, index);
      }
    }
    // The access policy sees every write before anything is stored; resources this transaction
    // creates may be pointed at by the others.
    const createdHere = new Map<string, Resource>();
    for (const [index, resource] of resources.entries()) {
      if (methods[index] === 'POST' && resource && !outcomes[index]) createdHere.set(`${targets[index]!.type}/${newIds[index]}`, resource);
    }
    for (const [index, resource] of resources.entries()) {
      if (!resource || outcomes[index]) continue;
      const id = methods[index] === 'POST' ? newIds[index] : targets[index]!.id;
      await assertMayWrite(client, writer, stampOwner({ ...resource, id }, writer), `${entryPath(index)}.resource`, createdHere).catch((e: unknown) => aboutEntry(e, index));
    }
    // Documents' inline content becomes encrypted Binaries, once the writes are allowed and before anything else is written.
    for (const [index, resource] of resources.entries()) {
      if (!resource || outcomes[index]) continue;
      resources[index] = await context.documents.prepareForStore(client, resource, `${entryPath(index)}.resource`).catch((e: unknown) => aboutEntry(e, index));
    }
    // Effects need every entry stored: a referral's Task may point at a role created after it.
    const effects = new DeferredEffects(context, client);
    for (const { method, indices } of transactionRunOrder(methods)) {
      const pending = indices.filter((index) => !outcomes[index]);
      if (method === 'POST') {
        // Creates go in together: a directory load of 1,000 entries is a handful of statements.
        const items = pending.map((index) => ({ resource: stampOwner(resources[index]!, writer), id: newIds[index], entryPath: `${entryPath(index)}.resource`, deferKey: index }));
        const created = await createResources(context, client, items, { validated: true, deferTo: effects });
        created.forEach((resource, i) => {
          outcomes[pending[i]!] = { resource, response: writtenResponse(resource, '201 Created') };
        });
        continue;
      }
      for (const index of pending) {
        outcomes[index] = await runEntry(context, client, effects, index, method as Exclude<Method, 'POST'>, targets[index]!, resources[index], entries[index]!, writer).catch((e: unknown) =>
          aboutEntry(e, index),
        );
      }
    }
    for (const index of entries.keys()) await effects.runFor(index).catch((e: unknown) => aboutEntry(e, index));
    return outcomes.map((outcome) => ({ ...(outcome!.resource ? { resource: outcome!.resource } : {}), response: outcome!.response }));
  }
}

/**
 * A batch (FHIR R4 http.html#batch): every entry on its own, in its own database transaction;
 * a failing entry answers with its status and OperationOutcome and does not stop the others.
 */
async function processBatch(context: WriteContext, db: Database, entries: BundleEntry[], writer: Access, terminologyServer?: TerminologyServer): Promise<BundleEntry[]> {
  const results: BundleEntry[] = [];
  // One issue budget for the whole answer: 5,000 failing entries do not make a 100 MB response.
  let issuesLeft = MAX_BATCH_ISSUES;
  for (const [index, entry] of entries.entries()) {
    try {
      const [response] = await processTransaction(context, db, [entry], writer, terminologyServer);
      results.push(response!);
    } catch (error) {
      if (!(error instanceof FhirError)) throw error;
      const shown = error.issues.slice(0, Math.max(1, issuesLeft));
      issuesLeft -= shown.length;
      const message = shown.map((i) => ({ ...i, diagnostics: i.diagnostics?.replace(entryPath(0), entryPath(index)) }));
      if (shown.length < error.issues.length) {
        message.push({ severity: 'information', code: 'too-costly', diagnostics: `${error.issues.length - shown.length} more issues not shown (this batch's answer lists at most ${MAX_BATCH_ISSUES})` });
      }
      results.push({ response: { status: String(error.status), outcome: new FhirError(error.status, message).outcome } });
    }
  }
  return results;
}

export async function processBundle(context: WriteContext, db: Database, bundle: Bundle, publicBaseUrl: string, writer?: Access, terminologyServer?: TerminologyServer): Promise<Bundle> {
  const entries = bundle.entry ?? [];
  if (entries.length > MAX_BUNDLE_ENTRIES) throw new FhirError(413, [{ severity: 'error', code: 'too-costly', diagnostics: `at most ${MAX_BUNDLE_ENTRIES} entries per Bundle` }]);
  let results: BundleEntry[];
  if (bundle.type === 'transaction') results = await processTransaction(context, db, entries, writer, terminologyServer);
  else if (bundle.type === 'batch') results = await processBatch(context, db, entries, writer, terminologyServer);
  else throw badRequest('Bundle.type must be "transaction" or "batch"', ['Bundle.type']);
  return {
    resourceType: 'Bundle',
    type: bundle.type === 'transaction' ? 'transaction-response' : 'batch-response',
    entry: results.map((result) => ({
      ...(result.resource ? { fullUrl: `${publicBaseUrl}/fhir/${result.resource.resourceType}/${result.resource.id}` } : {}),
      ...result,
    })),
  };
}
