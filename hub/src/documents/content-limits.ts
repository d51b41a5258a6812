import { FhirError, issue } from '../fhir/operation-outcome.js';

export interface ContentLimits {
  maxSizeBytes: number;
  /** Media types (without parameters) the hub accepts for documents. */
  allowedContentTypes: string[];
}

/** "application/pdf; charset=x" → "application/pdf" */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

/** 415 for a type outside the allow-list (FHIR R4 http.html: unsupported content). */
export function assertAllowedContentType(contentType: string | undefined, limits: ContentLimits, path?: string): string {
  const type = mediaTypeOf(contentType);
  if (!type) throw new FhirError(415, [issue('not-supported', 'a document needs a content type', path ? [path] : undefined)]);
  if (!limits.allowedContentTypes.includes(type)) {
    throw new FhirError(415, [issue('not-supported', `documents of type ${type} are not accepted; allowed: ${limits.allowedContentTypes.join(', ')}`, path ? [path] : undefined)]);
  }
  return type;
}

export const tooLarge = (limit: number) =>
  new FhirError(413, [issue('too-costly', `the document is larger than the limit of ${limit} bytes (documents.maxSizeBytes)`)]);
