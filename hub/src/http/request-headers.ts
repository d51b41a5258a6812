import type { Request } from 'express';
import { badRequest } from '../fhir/operation-outcome.js';

/** The version in an If-Match header: `W/"3"` or `"3"` (FHIR R4 http.html#concurrency). */
export function ifMatchVersion(req: Request): string | undefined {
  const header = req.get('if-match');
  if (header === undefined) return undefined;
  const match = header.trim().match(/^(?:W\/)?"([^"]+)"$/);
  if (!match) throw badRequest(`If-Match must be an ETag such as W/"3" (got ${header})`);
  return match[1];
}

export type PreferredReturn = 'minimal' | 'representation' | 'OperationOutcome';

/** Prefer: return=… (FHIR R4 http.html#ops); representation when absent or unknown. */
export function preferredReturn(req: Request): PreferredReturn {
  const match = req.get('prefer')?.match(/return=(minimal|representation|OperationOutcome)/);
  return (match?.[1] as PreferredReturn | undefined) ?? 'representation';
}
