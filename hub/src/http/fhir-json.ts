import express, { type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import type { Resource } from 'fhir/r4.js';
import type { Logger } from 'pino';
import { FhirError, issue, unsupportedMediaType } from '../fhir/operation-outcome.js';

export const FHIR_JSON = 'application/fhir+json';
const ACCEPTED_BODY_TYPES = [FHIR_JSON, 'application/json'];
/** RFC 6902 JSON Patch, the body of FHIR's PATCH interaction. */
const JSON_PATCH = 'application/json-patch+json';
const FORM = 'application/x-www-form-urlencoded';

/** Sends a resource as FHIR JSON with the given status. */
export function sendResource(res: Response, status: number, resource: Resource): void {
  sendFhirJson(res, status, JSON.stringify(resource));
}

/** Sends FHIR JSON that is already text (a search Bundle assembled from stored JSON). */
export function sendFhirJson(res: Response, status: number, json: string): void {
  res.status(status).type(`${FHIR_JSON}; charset=utf-8`).send(json);
}

/** Parses FHIR JSON, JSON Patch and search-form bodies; any other media type is refused with 415. */
export function fhirJsonBody(maxBodySize: string): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    const got = req.headers['content-type'] ?? 'no Content-Type';
    if (req.method === 'PATCH' && !req.is(JSON_PATCH)) {
      next(unsupportedMediaType(`send the patch as ${JSON_PATCH} (got ${got})`));
      return;
    }
    // POST [type]/_search carries its parameters as a form (FHIR R4 http.html#search).
    if (req.method === 'POST' && req.path.endsWith('/_search')) {
      if (!req.is(FORM)) next(unsupportedMediaType(`send search parameters as ${FORM} (got ${got})`));
      else next();
      return;
    }
    if (['POST', 'PUT'].includes(req.method) && !req.is(ACCEPTED_BODY_TYPES)) {
      next(unsupportedMediaType(`send the resource as ${FHIR_JSON} (got ${got})`));
      return;
    }
    next();
  };
  return [
    requireJson,
    express.json({ type: [...ACCEPTED_BODY_TYPES, JSON_PATCH], limit: maxBodySize, strict: true }),
    express.urlencoded({ type: FORM, extended: false, limit: maxBodySize }),
  ];
}

/** The body-parser errors express raises, mapped to FHIR answers. */
function fromBodyParserError(error: { type?: string; status?: number; message: string }): FhirError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new FhirError(400, [issue('structure', `the body is not valid JSON: ${error.message}`)]);
    case 'entity.too.large':
      return new FhirError(413, [issue('too-costly', 'the body is larger than this server accepts')]);
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return unsupportedMediaType(error.message);
    default:
      return undefined;
  }
}

/**
 * The one place errors become HTTP answers: always an OperationOutcome. Unexpected errors are
 * logged with their stack and answered 500 without internals.
 */
export function fhirErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const fhirError =
      error instanceof FhirError ? error : fromBodyParserError(error as { type?: string; message: string }) ?? undefined;
    if (fhirError) {
      if (fhirError.status >= 500) logger.error({ err: error, path: req.path }, 'request failed');
      sendResource(res, fhirError.status, fhirError.outcome);
      return;
    }
    logger.error({ err: error, method: req.method, path: req.path }, 'unexpected error');
    sendResource(res, 500, new FhirError(500, [issue('exception', 'internal server error')]).outcome);
  };
}
