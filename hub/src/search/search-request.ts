import { badRequest } from '../fhir/operation-outcome.js';
import { assertSearchableText, assertSearchWithinLimits } from './search-limits.js';
import { indexedParameters, type IndexedParameter } from './search-parameters.js';

export interface ParameterFilter {
  kind: 'parameter';
  parameter: IndexedParameter;
  modifier: string | undefined;
  /** Alternatives (comma-separated in the URL): any one matches. */
  values: string[];
}
export interface ChainFilter {
  kind: 'chain';
  /** The reference parameter on the searched type, e.g. PractitionerRole.practitioner. */
  reference: IndexedParameter;
  targetType: string;
  /** The filter applied to the referenced resources, e.g. Practitioner.name. */
  inner: ParameterFilter | SpecialFilter;
}
export interface SpecialFilter {
  kind: '_id' | '_lastUpdated';
  values: string[];
}
export type SearchFilter = ParameterFilter | ChainFilter | SpecialFilter;

export interface IncludeRequest {
  /** Type holding the reference (the searched type for _include, another for _revinclude). */
  sourceType: string;
  reference: IndexedParameter;
  targetType: string | undefined;
}

export interface SearchCursor {
  /** The sort key of the last (next page) or first (previous page) row shown. */
  key: string;
  id: string;
  direction: 'next' | 'previous';
}

export interface SearchRequest {
  resourceType: string;
  filters: SearchFilter[];
  count: number;
  sort: { by: '_id' | '_lastUpdated'; descending: boolean };
  cursor: SearchCursor | undefined;
  include: IncludeRequest[];
  revinclude: IncludeRequest[];
  summaryCount: boolean;
  elements: string[] | undefined;
  /** Parameters the hub does not know; ignored with a warning, or refused under handling=strict. */
  unknown: string[];
}

const DEFAULT_COUNT = 20;
const MAX_COUNT = 1000;
/** Parameters about the response's format, not the search: accepted and ignored. */
const FORMAT_PARAMETERS = new Set(['_format', '_pretty']);

export function encodeCursor(cursor: SearchCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(text: string): SearchCursor {
  let cursor: SearchCursor | undefined;
  try {
    cursor = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as SearchCursor;
  } catch {
    // refused below
  }
  if (typeof cursor?.key !== 'string' || typeof cursor.id !== 'string' || !['next', 'previous'].includes(cursor.direction)) {
    throw badRequest('_cursor is not a cursor this server handed out', ['_cursor']);
  }
  // Decoded JSON may hold what no URL can: a \u0000 or a lone surrogate.
  assertSearchableText(cursor.key, '_cursor');
  assertSearchableText(cursor.id, '_cursor');
  return cursor;
}

function parameterFilter(resourceType: string, name: string, values: string[]): ParameterFilter | SpecialFilter | undefined {
  const [code, modifier] = name.split(':', 2) as [string, string | undefined];
  if (code === '_id' || code === '_lastUpdated') return { kind: code, values };
  const parameter = indexedParameters(resourceType).get(code);
  if (!parameter) return undefined;
  if (modifier !== undefined && !(parameter.kind === 'string' && ['exact', 'contains'].includes(modifier))) {
    throw badRequest(`modifier :${modifier} is not supported on ${resourceType}.${code}`, [name]);
  }
  return { kind: 'parameter', parameter, modifier, values };
}

/** `practitioner.name` or `practitioner:Practitioner.name` (FHIR R4 search.html#chaining). */
function chainFilter(resourceType: string, name: string, values: string[]): ChainFilter | undefined {
  const dot = name.indexOf('.');
  const [referenceCode, typeModifier] = name.slice(0, dot).split(':', 2) as [string, string | undefined];
  const reference = indexedParameters(resourceType).get(referenceCode);
  if (!reference || reference.kind !== 'reference') return undefined;
  const targetType = typeModifier ?? (reference.targets.length === 1 ? reference.targets[0] : undefined);
  if (!targetType || !reference.targets.includes(targetType)) {
    throw badRequest(`chain ${name}: name the target type, e.g. ${referenceCode}:${reference.targets[0] ?? 'Type'}.…`, [name]);
  }
  const inner = parameterFilter(targetType, name.slice(dot + 1), values);
  return inner ? { kind: 'chain', reference, targetType, inner } : undefined;
}

function includeRequest(value: string, searchedType: string, reverse: boolean): IncludeRequest | undefined {
  const [sourceType, code, targetType] = value.split(':') as [string, string | undefined, string | undefined];
  if (!code) return undefined;
  if (!reverse && sourceType !== searchedType) return undefined;
  const reference = indexedParameters(sourceType).get(code);
  if (!reference || reference.kind !== 'reference') return undefined;
  if (reverse && !reference.targets.includes(searchedType)) return undefined;
  return { sourceType, reference, targetType: reverse ? searchedType : targetType };
}

/**
 * Reads a search (FHIR R4 search.html) from query parameters: each name may repeat (AND), each
 * value may hold commas (OR). A search beyond SEARCH_LIMITS (search-limits.ts) is refused first.
 */
export function parseSearchRequest(resourceType: string, query: Array<[string, string]>): SearchRequest {
  assertSearchWithinLimits(query);
  const request: SearchRequest = {
    resourceType,
    filters: [],
    count: DEFAULT_COUNT,
    sort: { by: '_id', descending: false },
    cursor: undefined,
    include: [],
    revinclude: [],
    summaryCount: false,
    elements: undefined,
    unknown: [],
  };
  for (const [name, raw] of query) {
    const values = raw.split(',').map((v) => v.trim()).filter(Boolean);
    if (FORMAT_PARAMETERS.has(name)) continue;
    switch (name) {
      case '_count': {
        const count = Number(raw);
        if (!Number.isInteger(count) || count < 1) throw badRequest('_count must be a positive whole number', ['_count']);
        request.count = Math.min(count, MAX_COUNT);
        continue;
      }
      case '_sort': {
        const by = raw.replace(/^-/, '');
        if (by !== '_id' && by !== '_lastUpdated') throw badRequest('_sort supports _id and _lastUpdated (prefix - for descending)', ['_sort']);
        request.sort = { by, descending: raw.startsWith('-') };
        continue;
      }
      case '_cursor':
        request.cursor = decodeCursor(raw);
        continue;
      case '_summary':
        if (raw !== 'count') throw badRequest('_summary supports count', ['_summary']);
        request.summaryCount = true;
        continue;
      case '_elements':
        request.elements = values;
        continue;
      case '_include':
      case '_revinclude': {
        const include = includeRequest(raw, resourceType, name === '_revinclude');
        if (include) (name === '_include' ? request.include : request.revinclude).push(include);
        else request.unknown.push(`${name}=${raw}`);
        continue;
      }
    }
    const filter = name.includes('.') ? chainFilter(resourceType, name, values) : parameterFilter(resourceType, name, values);
    if (filter && values.length > 0) request.filters.push(filter);
    else request.unknown.push(name);
  }
  return request;
}
