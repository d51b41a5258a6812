import type { Resource } from 'fhir/r4.js';
import { binaryIdOfUrl, parseReference, type ReferenceTarget } from '../fhir/references.js';

export interface ReferenceAt extends ReferenceTarget {
  /** Where the reference stands, as a FHIRPath-like element path (for OperationOutcome.expression). */
  path: string;
}

/**
 * Every relative literal reference a resource makes, wherever it stands (contained resources
 * included), plus the Binaries its attachments name by url: what a write points at, for the
 * access policy's "a write may only point at what the writer may read".
 */
export function referencesIn(resource: Resource): ReferenceAt[] {
  const found: ReferenceAt[] = [];
  const walk = (value: unknown, path: string, key: string | undefined) => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => walk(item, `${path}[${index}]`, key));
      return;
    }
    if (typeof value === 'string') {
      if (key === 'reference') {
        const target = parseReference(value);
        if (target) found.push({ ...target, path });
      } else if (key === 'url' && /[aA]ttachment(\[\d+\])?\.url$/.test(path)) {
        const id = binaryIdOfUrl(value);
        if (id) found.push({ type: 'Binary', id, path });
      }
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const [name, child] of Object.entries(value)) {
      if (name === 'meta') continue;
      walk(child, `${path}.${name}`, name);
    }
  };
  walk(resource, resource.resourceType, undefined);
  return found;
}
