import { tryGetDataType, type InternalSchemaElement, type InternalTypeSchema } from '@medplum/core';
import type { OperationOutcomeIssue, Resource, StructureDefinition } from 'fhir/r4.js';
import { issue } from '../operation-outcome.js';
import { eachResourceOfType, jsonCheckIssues, type JsonCheck } from './json-elements.js';

/** Element types whose content a path cannot follow: any resource fits there. */
const OPEN_TYPES: ReadonlySet<string> = new Set(['Resource', 'DomainResource']);

/**
 * Types whose definition in Medplum's R4 package is not R4's: it ships R4B's EvidenceVariable
 * (characteristic.definition[x] became definitionReference, …), which would refuse R4's own
 * profiles of it (picoelement). Every other core R4 profile and extension keeps to its type.
 */
const NOT_R4_IN_MEDPLUM: ReadonlySet<string> = new Set(['EvidenceVariable']);

type Resolution = { found: true } | { found: false; problem: string };
const FOUND: Resolution = { found: true };

/** The element a segment names: `value[x]` itself, or `valueQuantity` for a type `value[x]` allows. */
function elementNamed(schema: InternalTypeSchema, segment: string): { element: InternalSchemaElement; types: string[] } | string {
  const exact = schema.elements[segment];
  if (exact) return { element: exact, types: exact.type.map((type) => type.code) };
  for (const [name, element] of Object.entries(schema.elements)) {
    if (!name.endsWith('[x]') || !segment.startsWith(name.slice(0, -3))) continue;
    const typeName = segment.slice(name.length - 3);
    const type = element.type.find(({ code }) => code.charAt(0).toUpperCase() + code.slice(1) === typeName);
    if (type) return { element, types: [type.code] };
    return `${element.path} allows no type ${typeName} (it allows ${element.type.map(({ code }) => code).join(', ')})`;
  }
  return `${schema.path} has no element ${segment}`;
}

/**
 * Follows `segments` from `schema` down the base type's elements and into their types. Found
 * where it cannot follow for certain (an unknown type, a resource element): only a path known
 * to be wrong is refused.
 */
function resolve(schema: InternalTypeSchema, segments: readonly string[]): Resolution {
  if (segments.length === 0) return FOUND;
  const [segment, ...rest] = segments as [string, ...string[]];
  const named = elementNamed(schema, segment);
  if (typeof named === 'string') return { found: false, problem: named };
  if (rest.length === 0) return FOUND;
  let firstProblem: Resolution | undefined;
  for (const code of named.types) {
    const inner = schema.innerTypes.find((type) => type.name === code) ?? (OPEN_TYPES.has(code) ? undefined : tryGetDataType(code));
    if (!inner) return FOUND;
    const resolution = resolve(inner, rest);
    // On a choice not narrowed to one type, the path may go on into any of them.
    if (resolution.found) return FOUND;
    firstProblem ??= resolution;
  }
  return firstProblem ?? FOUND;
}

function structureDefinitionIssues(definition: Partial<StructureDefinition>, path: string): OperationOutcomeIssue[] {
  // Only a profile (a constraint on a type) must keep to its base type's elements; a
  // specialization or logical model defines its own.
  if (definition.derivation !== 'constraint' || typeof definition.type !== 'string' || NOT_R4_IN_MEDPLUM.has(definition.type)) return [];
  const base = tryGetDataType(definition.type);
  const elements = definition.differential?.element;
  if (!base || !Array.isArray(elements)) return [];
  const issues: OperationOutcomeIssue[] = [];
  elements.forEach((element, index) => {
    const elementPath: unknown = element?.path;
    if (typeof elementPath !== 'string') return;
    const [root, ...segments] = elementPath.split('.');
    const resolution: Resolution = root === definition.type ? resolve(base, segments) : { found: false, problem: `it does not start with the profiled type ${definition.type}` };
    if (!resolution.found) {
      issues.push(issue('invalid', `differential element ${index} has the path ${elementPath}, which is not an element of ${definition.type}: ${resolution.problem}`, [path]));
    }
  });
  return issues;
}

/**
 * A profile's differential names elements of the type it profiles (FHIR R4
 * profiling.html#snapshot: HL7's validator cannot generate the snapshot otherwise): each path is
 * an element of the base type or of the types of its elements, and a choice element renamed for
 * one type (`Observation.valueQuantity`) names a type the choice allows. Checked against the
 * types Medplum loaded from R4, for StructureDefinitions anywhere in the resource.
 */
export const structureDefinitionPathCheck: JsonCheck = eachResourceOfType<StructureDefinition>('StructureDefinition', structureDefinitionIssues);

/** The issues of this check on one resource, on a walk of its own. */
export function structureDefinitionPathIssues(resource: Resource): OperationOutcomeIssue[] {
  return jsonCheckIssues(resource, structureDefinitionPathCheck);
}
