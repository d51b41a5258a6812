import type { OperationOutcomeIssue, Resource } from 'fhir/r4.js';

/**
 * A resource's JSON, walked once element by element with the element's path in the form HL7's
 * validator reports it (`Patient.name[0].given`, `Bundle.entry[1].resource.id`). The checks
 * that need no type information (ids, empty values, contained references, extensions) share it.
 */
export interface JsonElement {
  value: unknown;
  /** The element's path from the resource at the root. */
  path: string;
  /** The JSON key it sits under (for an array item, the array's key). */
  key: string;
}

/** Visits every object and array below `root` (not `root` itself), depth first, parents first. */
export function forEachJsonElement(root: object, rootPath: string, visit: (element: JsonElement) => void): void {
  const walk = (node: object, path: string): void => {
    for (const [key, value] of Object.entries(node)) {
      if (typeof value !== 'object' || value === null) continue;
      // `_birthDate` holds birthDate's id and extensions; HL7's validator calls it birthDate.
      const childPath = `${path}.${key.startsWith('_') ? key.slice(1) : key}`;
      visit({ value, path: childPath, key });
      if (!Array.isArray(value)) {
        walk(value, childPath);
        continue;
      }
      value.forEach((item: unknown, index) => {
        if (typeof item !== 'object' || item === null) return;
        const itemPath = `${childPath}[${index}]`;
        visit({ value: item, path: itemPath, key });
        walk(item, itemPath);
      });
    }
  };
  walk(root, rootPath);
}

/** An object that is a resource: the root, a contained resource, a Bundle entry's, a Parameters'. */
export function isResourceObject(value: unknown): value is { resourceType: string; id?: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { resourceType?: unknown }).resourceType === 'string';
}

/**
 * A check that reads the resource's JSON: given the resource and the list its issues go to,
 * what it does with each element, and once the walk is over. The validator walks once for all
 * of them (walkJson).
 */
export type JsonCheck = (resource: Resource, issues: OperationOutcomeIssue[]) => { visit: (element: JsonElement) => void; finish?: () => void };

/** One walk over the resource's JSON with every check. */
export function walkJson(resource: Resource, checks: readonly JsonCheck[], issues: OperationOutcomeIssue[]): void {
  const visitors = checks.map((check) => check(resource, issues));
  forEachJsonElement(resource, resource.resourceType, (element) => {
    for (const visitor of visitors) visitor.visit(element);
  });
  for (const visitor of visitors) visitor.finish?.();
}

/** The issues one JSON check finds on its own walk (its unit tests). */
export function jsonCheckIssues(resource: Resource, check: JsonCheck): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  walkJson(resource, [check], issues);
  return issues;
}

/**
 * A JSON check that judges every resource of one type the resource holds: itself, contained
 * ones, Bundle entries', Parameters'. `judge` gets each with its path.
 */
export function eachResourceOfType<T>(type: string, judge: (resource: Partial<T>, path: string) => OperationOutcomeIssue[]): JsonCheck {
  return (resource, issues) => {
    if (resource.resourceType === type) issues.push(...judge(resource as unknown as Partial<T>, type));
    return {
      visit: ({ value, path }) => {
        if (isResourceObject(value) && value.resourceType === type) issues.push(...judge(value as unknown as Partial<T>, path));
      },
    };
  };
}
