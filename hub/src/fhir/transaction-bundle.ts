import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Resource } from 'fhir/r4.js';
import { routeStoredReferral } from '../routing/referral-routing-rule.js';
import { inTransaction, type Database } from '../store/database.js';
import { createResource } from '../store/resource-store.js';
import { badRequest, FhirError } from './operation-outcome.js';
import { parseIncomingResource } from './incoming-resource.js';

interface PlannedCreate {
  index: number;
  resource: Resource;
  id: string;
}

/** Replaces every `reference` that names a Bundle entry's fullUrl with that entry's new Type/id. */
function resolveReferences(value: unknown, targets: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, targets));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) =>
      key === 'reference' && typeof v === 'string' && targets.has(v) ? [key, targets.get(v)] : [key, resolveReferences(v, targets)],
    ),
  );
}

function prefixIssues(error: unknown, index: number): never {
  if (error instanceof FhirError) {
    throw new FhirError(
      error.status,
      error.issues.map((i) => ({ ...i, diagnostics: `Bundle.entry[${index}]: ${i.diagnostics ?? i.details?.text ?? i.code}` })),
    );
  }
  throw error;
}

/**
 * Plans a transaction: checks every entry, assigns ids and rewrites urn:uuid references
 * (FHIR R4 http.html#trules), all before anything is written.
 */
function planTransaction(bundle: Bundle): PlannedCreate[] {
  const entries: BundleEntry[] = bundle.entry ?? [];
  const targets = new Map<string, string>();
  const ids = entries.map((entry, index) => {
    if (entry.request?.method !== 'POST') {
      throw badRequest(`Bundle.entry[${index}]: only POST (create) entries are supported in transactions`, [
        `Bundle.entry[${index}].request.method`,
      ]);
    }
    const id = randomUUID();
    const type = (entry.resource as { resourceType?: unknown } | undefined)?.resourceType;
    if (entry.fullUrl && typeof type === 'string') {
      if (targets.has(entry.fullUrl)) throw badRequest(`Bundle.entry[${index}]: duplicate fullUrl ${entry.fullUrl}`);
      targets.set(entry.fullUrl, `${type}/${id}`);
    }
    return id;
  });
  return entries.map((entry, index) => {
    try {
      const resource = parseIncomingResource(resolveReferences(entry.resource, targets), entry.request?.url?.split('?')[0]);
      return { index, resource, id: ids[index]! };
    } catch (error) {
      return prefixIssues(error, index);
    }
  });
}

/**
 * A FHIR transaction: every entry is stored, or none is. Deliveries the entries ask for are
 * queued through the outbox in the same database transaction.
 */
export async function processTransaction(db: Database, bundle: Bundle): Promise<Bundle> {
  if (bundle.type !== 'transaction') throw badRequest('only Bundle.type "transaction" is accepted at the base URL', ['Bundle.type']);
  const plan = planTransaction(bundle);
  const stored = await inTransaction(db, async (client) => {
    const created: Resource[] = [];
    for (const entry of plan) created.push(await createResource(client, entry.resource, entry.id));
    for (const [index, resource] of created.entries()) {
      await routeStoredReferral(client, resource, `Bundle.entry[${index}].resource`).catch((error: unknown) => prefixIssues(error, index));
    }
    return created;
  });
  return {
    resourceType: 'Bundle',
    type: 'transaction-response',
    entry: stored.map((resource) => ({
      resource,
      response: {
        status: '201 Created',
        location: `${resource.resourceType}/${resource.id}/_history/${resource.meta!.versionId}`,
        etag: `W/"${resource.meta!.versionId}"`,
        lastModified: resource.meta!.lastUpdated!,
      },
    })),
  };
}
