import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Binary } from 'fhir/r4.js';
import { assertMayModify, assertMayRead } from '../access/access-policy.js';
import { accessOf } from '../access/request-access.js';
import { assertCanModify, stampOwner } from '../auth/ownership.js';
import { assertFhirId } from '../fhir/fhir-id.js';
import { notFound } from '../fhir/operation-outcome.js';
import { sendResource } from '../http/fhir-json.js';
import { inTransaction, type Database } from '../store/database.js';
import { readResource } from '../store/resource-store.js';
import { createResource, updateResource } from '../fhir/resource-writer.js';
import type { WriteContext } from '../workflow/write-context.js';
import { decryptContent, findContentOf, linkContent, readVerifiedContent, storeContent, verifyContent } from './binary-content-store.js';
import { assertAllowedContentType, tooLarge } from './content-limits.js';

const FHIR_JSON_TYPES = ['application/fhir+json', 'application/json'];
/** Content up to this size is decrypted and checked in memory before it is sent; larger content is checked in a first pass. */
const VERIFY_IN_MEMORY_BYTES = 32 * 1024 * 1024;

/** A request whose body is the document itself (not a FHIR JSON Binary). */
const hasRawBody = (req: Request) => !req.is(FHIR_JSON_TYPES);
/** GET Binary answers with the document unless the client asks for FHIR JSON (FHIR R4 binary.html#rest). */
const wantsRaw = (req: Request) => req.accepts([...FHIR_JSON_TYPES, '*/*']) === '*/*' || !req.get('accept');

function sendBinaryHeaders(res: Response, binary: Binary, publicBaseUrl: string, status: number): void {
  res.setHeader('ETag', `W/"${binary.meta!.versionId}"`);
  res.setHeader('Location', `${publicBaseUrl}/fhir/Binary/${binary.id}/_history/${binary.meta!.versionId}`);
  res.status(status);
}

/**
 * Binary content as raw bytes (FHIR R4 binary.html#rest), streamed: POST/PUT with the document as
 * the body (Content-Type = its media type) and GET with any Accept but FHIR JSON. Size and type
 * limits answer 413/415 before anything is stored; the content is hashed and OpenPGP-encrypted
 * as it arrives and stored in the same transaction as the Binary. Mounted before the JSON body
 * parser; FHIR JSON requests fall through to the REST router.
 */
export function binaryRoutes(options: { db: Database; writes: WriteContext; publicBaseUrl: string; authorize: RequestHandler[] }): Router {
  const { db, writes, publicBaseUrl } = options;
  const { documents } = writes;
  const router = Router();
  const onlyRaw = (test: (req: Request) => boolean): RequestHandler => (req, _res, next) => next(test(req) ? undefined : 'router');

  const store = async (req: Request, res: Response, id: string | undefined) => {
    // Before a byte is read: a bad id would only be refused after the content was encrypted.
    if (id !== undefined) assertFhirId(id, 'Binary.id');
    const settings = documents.settings();
    const type = assertAllowedContentType(req.get('content-type'), settings);
    const declared = Number(req.get('content-length') ?? NaN);
    if (declared > settings.maxSizeBytes) throw tooLarge(settings.maxSizeBytes);
    const writer = accessOf(res);
    const binary = await inTransaction(db, async (client) => {
      if (id) await assertMayModify(client, writer, 'Binary', id);
      const content = await storeContent(client, documents.contentStoreDeps(), req, type);
      const resource = stampOwner<Binary>({ resourceType: 'Binary', contentType: type }, writer);
      const stored = id
        ? (await updateResource(writes, client, { ...resource, id }, { guard: (current) => assertCanModify(current, writer) })).resource
        : await createResource(writes, client, resource, { id: randomUUID() });
      await linkContent(client, content.contentId, stored.id!, stored.meta!.versionId!);
      return stored;
    });
    sendBinaryHeaders(res, binary, publicBaseUrl, id ? 200 : 201);
    sendResource(res, res.statusCode, binary);
  };

  router.post('/Binary', onlyRaw(hasRawBody), ...options.authorize, (req, res) => store(req, res, undefined));
  router.put('/Binary/:id', onlyRaw(hasRawBody), ...options.authorize, (req, res) => store(req, res, req.params['id'] as string));

  router.get('/Binary/:id', ...options.authorize, async (req, res) => {
    const id = req.params['id'] as string;
    await assertMayRead(db, accessOf(res), 'Binary', id);
    const binary = await readResource<Binary>(db, 'Binary', id);
    const content = await findContentOf(db, id);
    if (!content) throw notFound(`Binary/${id} has no content`);
    const crypto = documents.crypto();
    res.setHeader('ETag', `W/"${binary.meta!.versionId}"`);
    if (!wantsRaw(req)) {
      const data = await readVerifiedContent(db, crypto, content);
      sendResource(res, 200, { ...binary, data: data.toString('base64') } as Binary);
      return;
    }
    res.setHeader('Content-Type', content.contentType);
    res.setHeader('Content-Length', String(content.size));
    if (content.size <= VERIFY_IN_MEMORY_BYTES) {
      res.status(200).end(await readVerifiedContent(db, crypto, content));
      return;
    }
    // Too large to hold: prove it intact first, then stream it (checked again on the way).
    await verifyContent(db, crypto, content);
    res.status(200);
    await pipeline(decryptContent(db, crypto, content), res);
  });
  return router;
}
