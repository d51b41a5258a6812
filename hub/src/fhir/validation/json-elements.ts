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
