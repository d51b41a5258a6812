import { FhirError, issue } from '../fhir/operation-outcome.js';

/**
 * How large a search the hub runs. Each parameter becomes a condition and each OR value a SQL
 * parameter (PostgreSQL takes at most 65,535 in one statement), so both are bounded well below
 * what costs anything; a real client's search has a handful of each.
 */
export const SEARCH_LIMITS = {
  /** Parameters in one search, URL and form together, a repeated name counted each time (AND). */
  maxParameters: 100,
  /** Comma-separated alternatives (OR) in one parameter's value. */
  maxValuesPerParameter: 100,
  /** OR values of all parameters together. */
  maxValues: 1000,
} as const;

const tooCostly = (diagnostics: string, expression?: string) =>
  new FhirError(400, [issue('too-costly', diagnostics, expression === undefined ? undefined : [expression])]);

/** The refusal of a search with more than maxParameters parameters (also when the form parser counts them first). */
export function tooManySearchParameters(): FhirError {
  return tooCostly(`search parameter limit: at most ${SEARCH_LIMITS.maxParameters} parameters in one search`);
}

/** A parameter's name or value shown in an `expression`: escaped, never a raw NUL, and short. */
function shownName(name: string): string {
  const short = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return /^[\w:.-]+$/.test(short) ? short : JSON.stringify(short);
}

/** Why a parameter's name or value cannot be searched for, if it cannot. */
function badSearchText(text: string): string | undefined {
  // PostgreSQL text cannot hold U+0000 (it answered 500: "invalid byte sequence").
  if (text.includes('\u0000')) return 'NUL character: search names and values may not contain U+0000 (%00)';
  if (!text.isWellFormed()) return 'lone surrogate: search names and values must be well-formed Unicode';
  return undefined;
}

/** Refuses (400) text from a search that the database cannot compare with: NUL and lone surrogates. */
export function assertSearchableText(text: string, parameter: string): void {
  const problem = badSearchText(text);
  if (problem) throw new FhirError(400, [issue('invalid', `${problem} (in ${shownName(parameter)})`, [shownName(parameter)])]);
}

/**
 * Checks a search's parameters against SEARCH_LIMITS before any of it is parsed, so a refused
 * search costs one pass over what was sent. Each refusal is a 400 OperationOutcome naming the
 * limit and, where there is one, the parameter.
 */
export function assertSearchWithinLimits(query: ReadonlyArray<readonly [string, string]>): void {
  if (query.length > SEARCH_LIMITS.maxParameters) throw tooManySearchParameters();
  let values = 0;
  for (const [name, raw] of query) {
    assertSearchableText(name, name);
    assertSearchableText(raw, name);
    // Counted, not split: a value of 65,536 commas costs one scan.
    let alternatives = 1;
    for (let at = raw.indexOf(','); at >= 0; at = raw.indexOf(',', at + 1)) alternatives += 1;
    if (alternatives > SEARCH_LIMITS.maxValuesPerParameter) {
      throw tooCostly(`search OR limit: at most ${SEARCH_LIMITS.maxValuesPerParameter} comma-separated values in one parameter (${shownName(name)} has ${alternatives})`, shownName(name));
    }
    values += alternatives;
    if (values > SEARCH_LIMITS.maxValues) {
      throw tooCostly(`search value limit: at most ${SEARCH_LIMITS.maxValues} values in all parameters together`, shownName(name));
    }
  }
}
