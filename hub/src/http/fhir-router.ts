import { Router, type Response } from 'express';
import type { Bundle, Resource } from 'fhir/r4.js';
import { createOne } from '../fhir/create-resource.js';
import { parseIncomingResource } from '../fhir/incoming-resource.js';
import { badRequest, FhirError, issue } from '../fhir/operation-outcome.js';
import { isSupportedResourceType } from '../fhir/supported-resources.js';
import { processTransaction } from '../fhir/transaction-bundle.js';
import type { Database } from '../store/database.js';
import { readResource, readResourceVersion } from '../store/resource-store.js';
import { capabilityStatement } from './capability-statement.js';
import { sendResource } from './fhir-json.js';

interface FhirRouterOptions {
  db: Database;
  publicBaseUrl: string;
  version: string;
}

function setVersionHeaders(res: Response, resource: Resource): void {
  res.setHeader('ETag', `W/"${resource.meta!.versionId}"`);
  res.setHeader('Last-Modified', new Date(resource.meta!.lastUpdated!).toUTCString());
}

function supportedType(type: string): string {
  if (!isSupportedResourceType(type)) {
    throw new FhirError(404, [issue('not-supported', `resource type ${type} is not supported by this server`)]);
  }
  return type;
}

/** The FHIR REST API (FHIR R4 http.html), mounted at /fhir. */
export function fhirRouter({ db, publicBaseUrl, version }: FhirRouterOptions): Router {
  const router = Router();

  router.get('/metadata', (_req, res) => sendResource(res, 200, capabilityStatement(publicBaseUrl, version)));

  // transaction: POST [base] with a Bundle.
  router.post('/', async (req, res) => {
    const body = req.body as Partial<Bundle> | undefined;
    if (body?.resourceType !== 'Bundle') throw badRequest('POST to the base URL takes a transaction Bundle', ['resourceType']);
    sendResource(res, 200, await processTransaction(db, body as Bundle));
  });

  // create: POST [base]/[type]
  router.post('/:type', async (req, res) => {
    const resource = parseIncomingResource(req.body, supportedType(req.params.type));
    const stored = await createOne(db, resource);
    setVersionHeaders(res, stored);
    res.setHeader('Location', `${publicBaseUrl}/fhir/${stored.resourceType}/${stored.id}/_history/${stored.meta!.versionId}`);
    sendResource(res, 201, stored);
  });

  // read: GET [base]/[type]/[id]
  router.get('/:type/:id', async (req, res) => {
    const resource = await readResource(db, supportedType(req.params.type), req.params.id);
    setVersionHeaders(res, resource);
    sendResource(res, 200, resource);
  });

  // vread: GET [base]/[type]/[id]/_history/[vid]
  router.get('/:type/:id/_history/:vid', async (req, res) => {
    const resource = await readResourceVersion(db, supportedType(req.params.type), req.params.id, req.params.vid);
    setVersionHeaders(res, resource);
    sendResource(res, 200, resource);
  });

  return router;
}
