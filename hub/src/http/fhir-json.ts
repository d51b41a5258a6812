import express, { type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import type { Resource } from 'fhir/r4.js';
import type { Logger } from 'pino';
import { assertJsonWithinLimits, jsonRootName } from '../fhir/json-limits.js';
import { jsonSyntaxIssues } from '../fhir/json-syntax.js';
import { FhirError, issue, unsupportedMediaType } from '../fhir/operation-outcome.js';
import { SEARCH_LIMITS, tooManySearchParameters } from '../search/search-limits.js';

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
  // After parsing, before anything else looks at the body (json-limits.ts).
  const refuseCostlyJson: RequestHandler = (req, _res, next) => {
    if (req.body !== undefined && req.is([...ACCEPTED_BODY_TYPES, JSON_PATCH])) assertJsonWithinLimits(req.body, jsonRootName(req.body));
    next();
  };
  return [
    requireJson,
    express.json({ type: [...ACCEPTED_BODY_TYPES, JSON_PATCH], limit: maxBodySize, strict: true }),
    refuseCostlyJson,
    // The search's own parameter limit: the parser stops counting there ('parameters.too.many',
    // answered like the search's refusal) instead of decoding a thousand pairs first.
    express.urlencoded({ type: FORM, extended: false, limit: maxBodySize, parameterLimit: SEARCH_LIMITS.maxParameters }),
  ];
}

/** What express and its body parsers put on the errors they raise (http-errors). */
interface HttpLibraryError {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
  /** body-parser's entity.parse.failed: the text it could not parse. */
  body?: unknown;
  message: string;
}

/**
 * Malformed JSON, each problem placed by line and column (`location`) and by the element it
 * is in (`expression`), as fhir/json-syntax.ts reads it.
 */
function malformedJson(error: HttpLibraryError): FhirError {
  const text = error.body;
  if (typeof text !== 'string') return new FhirError(400, [issue('structure', `the body is not valid JSON: ${error.message}`)]);
  return new FhirError(400, jsonSyntaxIssues(text, error.message));
}

/** The errors express and its body parsers raise, mapped to FHIR answers. */
function fromHttpLibraryError(error: HttpLibraryError): FhirError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return malformedJson(error);
    case 'entity.too.large':
      return new FhirError(413, [issue('too-costly', 'the body is larger than this server accepts')]);
    case 'parameters.too.many':
      return tooManySearchParameters();
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return unsupportedMediaType(error.message);
    case 'request.aborted':
      return new FhirError(400, [issue('incomplete', 'the request was aborted before its body had arrived')]);
    case 'request.size.invalid':
      return new FhirError(400, [issue('structure', 'the body is not as long as its Content-Length says')]);
  }
  // Any other client error they raise (a URL whose %-escapes decode to nothing: the router's
  // URIError with status 400) is the client's, not a 500; its message is shown unless marked
  // private (http-errors `expose: false`).
  if (typeof error.status === 'number' && error.status >= 400 && error.status < 500) {
    return new FhirError(error.status, [issue('invalid', error.expose === false ? 'the request is malformed' : error.message)]);
  }
  return undefined;
}

/**
 * The one place errors become HTTP answers: always an OperationOutcome. Unexpected errors are
 * logged with their stack and answered 500 without internals.
 */
export function fhirErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const fhirError = error instanceof FhirError ? error : error instanceof Error ? fromHttpLibraryError(error as HttpLibraryError) : undefined;
    if (fhirError) {
      if (fhirError.status >= 500) logger.error({ err: error, path: req.path }, 'request failed');
      sendResource(res, fhirError.status, fhirError.outcome);
      return;
    }
    logger.error({ err: error, method: req.method, path: req.path }, 'unexpected error');
    sendResource(res, 500, new FhirError(500, [issue('exception', 'internal server error')]).outcome);
  };
}
