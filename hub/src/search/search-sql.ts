import { readableCondition, type Access } from '../access/access-policy.js';
import { FHIR_ID_CHARACTERS, isFhirId } from '../fhir/fhir-id.js';
import { badRequest } from '../fhir/operation-outcome.js';
import { normalizeForSearch } from './index-values.js';
import type { ChainFilter, ParameterFilter, SearchFilter, SpecialFilter } from './search-request.js';

/** Collects a statement's parameters and hands out their $n placeholders. */
export class SqlParameters {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** A token value: `code`, `system|code`, `|code` (no system) or `system|` (FHIR R4 search.html#token). */
function tokenMatch(value: string, p: SqlParameters): string {
  const bar = value.indexOf('|');
  if (bar < 0) return `t.value = ${p.add(value)}`;
  const system = value.slice(0, bar);
  const code = value.slice(bar + 1);
  const systemMatch = system === '' ? 't.system IS NULL' : `t.system = ${p.add(system)}`;
  return code === '' ? systemMatch : `(${systemMatch} AND t.value = ${p.add(code)})`;
}

const REFERENCE_VALUE = new RegExp(`(?:^|/)([A-Za-z]+)/(${FHIR_ID_CHARACTERS})$`);

/** A reference value: `Type/id`, a bare `id`, or an absolute URL ending in Type/id. */
function referenceMatch(value: string, p: SqlParameters): string {
  const match = value.match(REFERENCE_VALUE);
  if (match) return `(x.target_type = ${p.add(match[1])} AND x.target_id = ${p.add(match[2])})`;
  if (isFhirId(value)) return `x.target_id = ${p.add(value)}`;
  throw badRequest(`${value} is not a reference`);
}

function parameterCondition(type: string, alias: string, filter: ParameterFilter, p: SqlParameters): string {
  const { parameter, modifier, values } = filter;
  // The index rows of the resource `alias` for this parameter, in index table `table`.
  const rowsOf = (table: string) =>
    `${table}.resource_type = ${p.add(type)} AND ${table}.id = ${alias}.id AND ${table}.code = ${p.add(parameter.code)}`;
  switch (parameter.kind) {
    case 'token':
      return `EXISTS (SELECT 1 FROM search_token t WHERE ${rowsOf('t')} AND (${values.map((v) => tokenMatch(v, p)).join(' OR ')}))`;
    case 'string': {
      const matches = values.map((v) => {
        if (modifier === 'exact') return `s.exact = ${p.add(v)}`;
        const pattern = modifier === 'contains' ? `%${escapeLike(normalizeForSearch(v))}%` : `${escapeLike(normalizeForSearch(v))}%`;
        return `s.normalized LIKE ${p.add(pattern)}`;
      });
      return `EXISTS (SELECT 1 FROM search_string s WHERE ${rowsOf('s')} AND (${matches.join(' OR ')}))`;
    }
    case 'reference':
      return `EXISTS (SELECT 1 FROM search_reference x WHERE ${rowsOf('x')} AND (${values.map((v) => referenceMatch(v, p)).join(' OR ')}))`;
  }
}

/** `_lastUpdated=ge2026-01-01` and friends (FHIR R4 search.html#prefix). */
function lastUpdatedCondition(alias: string, value: string, p: SqlParameters): string {
  const match = value.match(/^(eq|ne|gt|lt|ge|le|sa|eb)?(\d{4}(-\d{2}(-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?)?)?)$/);
  if (!match || Number.isNaN(Date.parse(match[2]!))) throw badRequest(`_lastUpdated: ${value} is not a date with an optional prefix`, ['_lastUpdated']);
  const operator = { eq: '=', ne: '<>', gt: '>', lt: '<', ge: '>=', le: '<=', sa: '>', eb: '<' }[match[1] ?? 'eq'];
  return `${alias}.last_updated ${operator} ${p.add(new Date(match[2]!))}`;
}

function specialCondition(alias: string, filter: SpecialFilter, p: SqlParameters): string {
  if (filter.kind === '_id') return `${alias}.id = ANY(${p.add(filter.values)}::text[])`;
  // Each comma-separated _lastUpdated value must hold (a range is two values: ge…,le…).
  return filter.values.map((v) => lastUpdatedCondition(alias, v, p)).join(' AND ');
}

function chainCondition(type: string, alias: string, filter: ChainFilter, p: SqlParameters, access: Access): string {
  const inner = filterCondition(filter.targetType, 'target', filter.inner, p, access);
  return `EXISTS (SELECT 1 FROM search_reference x
    JOIN resources target ON target.resource_type = x.target_type AND target.id = x.target_id AND NOT target.deleted
    WHERE x.resource_type = ${p.add(type)} AND x.id = ${alias}.id AND x.code = ${p.add(filter.reference.code)}
      AND x.target_type = ${p.add(filter.targetType)} AND ${inner} AND ${readableCondition(access, 'target', p)})`;
}

/**
 * One filter as a SQL condition on the resources row `alias` of type `type`. A chain matches
 * only through resources the caller may read: a chain must not tell what another
 * organisation's resources hold.
 */
export function filterCondition(type: string, alias: string, filter: SearchFilter, p: SqlParameters, access: Access): string {
  switch (filter.kind) {
    case 'parameter':
      return parameterCondition(type, alias, filter, p);
    case 'chain':
      return chainCondition(type, alias, filter, p, access);
    default:
      return specialCondition(alias, filter, p);
  }
}
