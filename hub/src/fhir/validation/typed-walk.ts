import { crawlTypedValue, toTypedValue, type CrawlerVisitor, type InternalSchemaElement, type InternalTypeSchema, type TypedValueWithPath } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from 'fhir/r4.js';

/**
 * What a typed check can ask of the walk it is on: an element's path as HL7's validator
 * writes it. Medplum's crawler names a choice value by its key (`Observation.valueQuantity`)
 * and a primitive's extensions by `_birthDate`; HL7 says `Observation.value.ofType(Quantity)`
 * and `Patient.birthDate`.
 */
export interface WalkPaths {
  hl7(path: string): string;
}

/**
 * A check that reads the resource by the types of its StructureDefinition: given the resource,
 * the list its issues go to and the walk's paths, the visitor it wants on the walk. Every such
 * check shares one walk (walkByType), since walking costs as much as some checks do.
 */
export type TypedCheck = (resource: Resource, issues: OperationOutcomeIssue[], paths: WalkPaths) => TypedVisitor;

/** The crawler's visitor, and what to do once the walk is over. */
export interface TypedVisitor extends CrawlerVisitor {
  finish?: () => void;
}

/** The element a property's key stands for: `valueQuantity` is the choice element `value[x]`. */
export function elementOf(schema: InternalTypeSchema, key: string): InternalSchemaElement | undefined {
  const exact = schema.elements[key];
  if (exact) return exact;
  for (const [name, element] of Object.entries(schema.elements)) {
    if (name.endsWith('[x]') && key.startsWith(name.slice(0, -3))) return element;
  }
  return undefined;
}

/** The choice element (`value[x]`) a key such as `valueQuantity` stands for, if it is one. */
function choiceOf(schema: InternalTypeSchema, key: string): string | undefined {
  for (const name of Object.keys(schema.elements)) {
    if (name.endsWith('[x]') && key.startsWith(name.slice(0, -3))) return name.slice(0, -3);
  }
  return undefined;
}

/**
 * The renames HL7's paths make, recorded as the walk meets them: only choice values and
 * primitives' `_name` objects, so an ordinary element costs one lookup.
 */
function walkPaths(): { paths: WalkPaths; record: (parent: TypedValueWithPath, key: string, values: TypedValueWithPath[], schema: InternalTypeSchema) => void } {
  const renamed = new Map<string, string>();
  const hl7 = (path: string): string => {
    for (let end = path.length; end > 0; end = path.lastIndexOf('.', end - 1)) {
      const prefix = renamed.get(path.slice(0, end));
      if (prefix !== undefined) return prefix + path.slice(end);
    }
    return path;
  };
  const record = (parent: TypedValueWithPath, key: string, values: TypedValueWithPath[], schema: InternalTypeSchema): void => {
    if (key in schema.elements) return;
    const parentPath = hl7(parent.path);
    if (key.startsWith('_')) {
      for (const value of values) renamed.set(value.path, `${parentPath}.${key.slice(1)}${value.path.slice(parent.path.length + key.length + 1)}`);
      return;
    }
    const choice = choiceOf(schema, key);
    if (choice === undefined) return;
    for (const value of values) renamed.set(value.path, `${parentPath}.${choice}.ofType(${value.type})`);
  };
  return { paths: { hl7 }, record };
}

/** One walk over the resource (Medplum's crawler) with every check's visitor, each called in turn at each step. */
export function walkByType(resource: Resource, checks: readonly TypedCheck[], issues: OperationOutcomeIssue[]): void {
  const { paths, record } = walkPaths();
  const visitors = checks.map((check) => check(resource, issues, paths));
  const each = <K extends keyof CrawlerVisitor>(key: K) => visitors.map((visitor) => visitor[key]).filter((hook): hook is NonNullable<CrawlerVisitor[K]> => hook !== undefined);
  const onEnterObject = each('onEnterObject');
  const onExitObject = each('onExitObject');
  const onEnterResource = each('onEnterResource');
  const onExitResource = each('onExitResource');
  const visitProperty = each('visitProperty');
  crawlTypedValue(
    toTypedValue(resource),
    {
      onEnterObject: (path, value, schema) => onEnterObject.forEach((hook) => hook(path, value, schema)),
      onExitObject: (path, value, schema) => onExitObject.forEach((hook) => hook(path, value, schema)),
      onEnterResource: (path, value, schema) => onEnterResource.forEach((hook) => hook(path, value, schema)),
      onExitResource: (path, value, schema) => onExitResource.forEach((hook) => hook(path, value, schema)),
      visitProperty: (parent, key, path, values, schema) => {
        record(parent, key, values.flat(), schema);
        visitProperty.forEach((hook) => hook(parent, key, path, values, schema));
      },
    },
    { skipMissingProperties: true },
  );
  for (const visitor of visitors) visitor.finish?.();
}

/** The issues one typed check finds on its own walk (its unit tests; the validator walks once for all). */
export function typedCheckIssues(resource: Resource, check: TypedCheck): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  walkByType(resource, [check], issues);
  return issues;
}
