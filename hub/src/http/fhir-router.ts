import { Router, type Request, type Response } from 'express';
import type { Bundle, Resource } from 'fhir/r4.js';
import { assertMayRead, mayRead } from '../access/access-policy.js';
import { accessOf, breakGlassAccess } from '../access/request-access.js';
import { createOne, deleteOne, patchOne, updateOne } from '../fhir/write-resources.js';
import { parseIncomingResource, parseUpdate } from '../fhir/incoming-resource.js';
import { assertFhirId, isFhirId } from '../fhir/fhir-id.js';
import { badRequest, FhirError, informationOutcome, issue } from '../fhir/operation-outcome.js';
import { isSupportedResourceType } from '../fhir/supported-resources.js';
import { processBundle } from '../fhir/bundle-processing.js';
import { processMessage } from '../fhir/process-message.js';
import type { Database } from '../store/database.js';
import type { WriteContext } from '../workflow/write-context.js';
import { isStoredId, readHistory, readResource, readResourceVersion, readTypeHistory } from '../store/resource-store.js';
import { historyBundle } from './history-bundle.js';
import { parseSearchRequest } from '../search/search-request.js';
import { runSearch } from '../search/run-search.js';
import { ifMatchVersion, preferredReturn } from './request-headers.js';
import { capabilityStatement } from './capability-statement.js';
import { validateOperation } from './validate-operation.js';
import { assertCodesKnownToTerminologyServer, type TerminologyServer } from '../fhir/validation/terminology-server.js';
import { sendFhirJson, sendResource } from './fhir-json.js';

interface FhirRouterOptions {
  db: Database;
  /** The hub's validator, document store and Subscription endpoint policy (startHub). */
  writes: WriteContext;
  publicBaseUrl: string;
  version: string;
  /** Asked about the codes the hub cannot check itself (`validation.terminologyServer`). */
  terminologyServer?: TerminologyServer | undefined;
}

function setVersionHeaders(res: Response, resource: Resource): void {
  res.setHeader('ETag', `W/"${resource.meta!.versionId}"`);
  res.setHeader('Last-Modified', new Date(resource.meta!.lastUpdated!).toUTCString());
}

/**
 * Answers a write as the client's Prefer header asks (FHIR R4 http.html#ops): the resource,
 * nothing, or an OperationOutcome. Location, ETag and Last-Modified are always set.
 */
function sendWritten(req: Request, res: Response, status: number, resource: Resource, publicBaseUrl: string): void {
  setVersionHeaders(res, resource);
  // Encoded for the ids earlier hubs stored unchecked (decision 0003); a FHIR id is unchanged by it.
  res.setHeader('Location', `${publicBaseUrl}/fhir/${resource.resourceType}/${encodeURIComponent(resource.id!)}/_history/${resource.meta!.versionId}`);
  switch (preferredReturn(req)) {
    case 'minimal':
      res.status(status).end();
      return;
    case 'OperationOutcome':
      sendResource(res, status, informationOutcome(`${resource.resourceType}/${resource.id} stored as version ${resource.meta!.versionId}`));
      return;
    default:
      sendResource(res, status, resource);
  }
}

function supportedType(type: string): string {
  if (!isSupportedResourceType(type)) {
    throw new FhirError(404, [issue('not-supported', `resource type ${type} is not supported by this server`)]);
  }
  return type;
}

/** The FHIR REST API (FHIR R4 http.html), mounted at /fhir. */
export function fhirRouter({ db, writes, publicBaseUrl, version, terminologyServer }: FhirRouterOptions): Router {
  const router = Router();
  // Every [id] and [vid] in a URL is a FHIR id (FHIR R4 datatypes.html#id): `..%2Fx`, 65
  // characters or non-ASCII are refused with 400 before anything is read or written. The one
  // exception (decision 0003): an [id] an earlier hub stored unchecked stays reachable by whoever
  // may read it; to anyone else it is refused like any other, so no one learns it exists.
  router.param('id', async (req, res, next, id: string) => {
    if (isFhirId(id)) {
      next();
      return;
    }
    const type = String(req.params['type']).match(/^[A-Za-z]+$/)?.[0];
    const readableLegacyId = type !== undefined && (await isStoredId(db, type, id)) && (await mayRead(db, accessOf(res), type, id));
    if (!readableLegacyId) assertFhirId(id, `${type ?? 'Resource'}.id`, 'the [id] in the URL');
    next();
  });
  router.param('vid', (req, _res, next, vid: string) => {
    const type = String(req.params['type']).match(/^[A-Za-z]+$/)?.[0] ?? 'Resource';
    assertFhirId(vid, `${type}.meta.versionId`, 'the [vid] in the URL');
    next();
  });
  router.use(breakGlassAccess(db));

  router.get('/metadata', (_req, res) => sendResource(res, 200, capabilityStatement(publicBaseUrl, version)));

  // $validate at the system level: the type is the resource's own.
  router.post('/$validate', async (req, res) => sendResource(res, 200, await validateOperation(writes.validator, req.body, req.query, undefined, terminologyServer)));

  // transaction and batch: POST [base] with a Bundle.
  router.post('/', async (req, res) => {
    const body = req.body as Partial<Bundle> | undefined;
    if (body?.resourceType !== 'Bundle') throw badRequest('POST to the base URL takes a transaction or batch Bundle', ['resourceType']);
    sendResource(res, 200, await processBundle(writes, db, body as Bundle, publicBaseUrl, accessOf(res), terminologyServer));
  });

  // FHIR messaging: a referral (or any resources) sent as a message Bundle.
  router.post('/$process-message', async (req, res) => {
    const body = req.body as Partial<Bundle> | undefined;
    if (body?.resourceType !== 'Bundle') throw badRequest('$process-message takes a Bundle of type "message"', ['resourceType']);
    const result = await processMessage(writes, db, body as Bundle, accessOf(res));
    sendResource(res, result.status, result.body);
  });

  /**
   * search: GET [base]/[type]?… and POST [base]/[type]/_search (form body, merged with the URL's
   * parameters). Unknown parameters are ignored with a warning unless Prefer: handling=strict.
   */
  const search = async (req: Request, res: Response, formBody: Record<string, string | string[]>) => {
    const type = supportedType(req.params['type'] as string);
    const pairs: Array<[string, string]> = [];
    const url = new URL(req.originalUrl, 'http://hub');
    url.searchParams.forEach((value, name) => pairs.push([name, value]));
    for (const [name, value] of Object.entries(formBody)) for (const v of [value].flat()) pairs.push([name, v]);
    const strict = /handling=strict/.test(req.get('prefer') ?? '');
    const selfQuery = new URLSearchParams(pairs.filter(([name]) => name !== '_cursor')).toString();
    sendFhirJson(res, 200, await runSearch(db, parseSearchRequest(type, pairs), publicBaseUrl, strict, selfQuery, accessOf(res)));
  };
  router.get('/:type', (req, res) => search(req, res, {}));

  // type history: GET [base]/[type]/_history (before /:type/:id, which would take "_history" as an id)
  router.get('/:type/_history', async (req, res) => {
    const type = supportedType(req.params.type);
    const count = Math.min(Math.max(Number(req.query['_count']) || 100, 1), 1000);
    sendResource(res, 200, historyBundle(publicBaseUrl, type, undefined, await readTypeHistory(db, type, count, accessOf(res))));
  });
  router.post('/:type/_search', (req, res) => search(req, res, (req.body ?? {}) as Record<string, string | string[]>));

  // $validate (FHIR R4 resource-operation-validate) at the type level; the system level is above.
  router.post('/:type/$validate', async (req, res) => {
    sendResource(res, 200, await validateOperation(writes.validator, req.body, req.query, supportedType(req.params.type), terminologyServer));
  });

  // create: POST [base]/[type]
  router.post('/:type', async (req, res) => {
    const resource = parseIncomingResource(writes.validator, req.body, supportedType(req.params.type));
    await assertCodesKnownToTerminologyServer(resource, terminologyServer);
    const result = await createOne(writes, db, resource, req.get('if-none-exist'), accessOf(res));
    sendWritten(req, res, result.created ? 201 : 200, result.resource, publicBaseUrl);
  });

  // update: PUT [base]/[type]/[id] (201 when it created the resource)
  router.put('/:type/:id', async (req, res) => {
    const resource = parseUpdate(writes.validator, req.body, supportedType(req.params.type), req.params.id);
    await assertCodesKnownToTerminologyServer(resource, terminologyServer);
    const result = await updateOne(writes, db, resource, req.params.id, ifMatchVersion(req), accessOf(res));
    sendWritten(req, res, result.previous ? 200 : 201, result.resource, publicBaseUrl);
  });

  // patch: PATCH [base]/[type]/[id] with application/json-patch+json
  router.patch('/:type/:id', async (req, res) => {
    const result = await patchOne(writes, db, supportedType(req.params.type), req.params.id, req.body, ifMatchVersion(req), accessOf(res));
    sendWritten(req, res, 200, result.resource, publicBaseUrl);
  });

  // delete: DELETE [base]/[type]/[id]; afterwards a read answers 410 Gone
  router.delete('/:type/:id', async (req, res) => {
    const type = supportedType(req.params.type);
    const versionId = await deleteOne(db, type, req.params.id, accessOf(res));
    if (versionId) res.setHeader('ETag', `W/"${versionId}"`);
    sendResource(res, 200, informationOutcome(versionId ? `${type}/${req.params.id} deleted` : `${type}/${req.params.id} did not exist`));
  });

  // history: GET [base]/[type]/[id]/_history
  router.get('/:type/:id/_history', async (req, res) => {
    const type = supportedType(req.params.type);
    const count = Math.min(Math.max(Number(req.query['_count']) || 100, 1), 1000);
    await assertMayRead(db, accessOf(res), type, req.params.id);
    sendResource(res, 200, historyBundle(publicBaseUrl, type, req.params.id, await readHistory(db, type, req.params.id, count)));
  });

  // read: GET [base]/[type]/[id]
  router.get('/:type/:id', async (req, res) => {
    const type = supportedType(req.params.type);
    await assertMayRead(db, accessOf(res), type, req.params.id);
    const resource = await readResource(db, type, req.params.id);
    setVersionHeaders(res, resource);
    sendResource(res, 200, resource);
  });

  // vread: GET [base]/[type]/[id]/_history/[vid]
  router.get('/:type/:id/_history/:vid', async (req, res) => {
    const type = supportedType(req.params.type);
    await assertMayRead(db, accessOf(res), type, req.params.id);
    const resource = await readResourceVersion(db, type, req.params.id, req.params.vid);
    setVersionHeaders(res, resource);
    sendResource(res, 200, resource);
  });

  return router;
}
