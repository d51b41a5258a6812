import type { Resource } from 'fhir/r4.js';
import type { Access } from '../access/access-policy.js';
import type { Queryable } from '../store/database.js';
import { findMatches } from '../search/run-search.js';
import { parseSearchRequest } from '../search/search-request.js';
import { FhirError, issue } from './operation-outcome.js';

/**
 * The outcome of an If-None-Exist condition (FHIR R4 http.html#ccreate): no match, so create;
 * one match, so answer with it and write nothing; several, so 412. Only what the caller may read
 * counts: another organisation's resource never answers a condition.
 */
export async function existingMatch(db: Queryable, type: string, condition: string, access: Access): Promise<Resource | undefined> {
  const query = [...new URLSearchParams(condition.replace(/^\?/, '')).entries()];
  if (query.length === 0) throw new FhirError(400, [issue('invalid', 'If-None-Exist needs search parameters, e.g. identifier=system|value')]);
  const matches = await findMatches(db, parseSearchRequest(type, query), 2, access);
  if (matches.length > 1) {
    throw new FhirError(412, [issue('duplicate', `If-None-Exist ${condition} matches more than one ${type}`)]);
  }
  return matches[0];
}
