import type { OperationOutcomeIssue, Resource } from 'fhir/r4.js';
import { issue } from '../operation-outcome.js';
import { isResourceObject, jsonCheckIssues, type JsonCheck } from './json-elements.js';

/** A resource that holds contained resources: the root, a Bundle entry's, a Parameters'. */
interface Container {
  path: string;
  containedIds: ReadonlySet<string>;
}

const CONTAINED_ITEM = /\.contained\[\d+\]$/;

function containerOf(path: string, resource: object): Container {
  const contained: unknown = (resource as { contained?: unknown }).contained;
  const items: unknown[] = Array.isArray(contained) ? contained : [];
  const ids = items.flatMap((inner) => (isResourceObject(inner) && typeof inner.id === 'string' ? [inner.id] : []));
  return { path, containedIds: new Set(ids) };
}

/**
 * Every local reference (`"reference": "#id"`) names a resource contained in the resource that
 * holds it (FHIR R4 references.html#contained); `#` alone names that resource itself. A
 * reference inside a contained resource resolves against its container, which is where the
 * contained resources are.
 */
export const containedReferenceCheck: JsonCheck = (resource, issues) => {
  const containers: Container[] = [containerOf(resource.resourceType, resource)];
  const localReferences: Array<{ reference: string; path: string }> = [];
  return {
    visit: ({ value, path }) => {
      if (isResourceObject(value) && !CONTAINED_ITEM.test(path)) containers.push(containerOf(path, value));
      const reference = Array.isArray(value) ? undefined : (value as { reference?: unknown }).reference;
      if (typeof reference === 'string' && reference.startsWith('#') && reference !== '#') localReferences.push({ reference, path });
    },
    finish: () => {
      for (const { reference, path } of localReferences) {
        // The innermost container whose path the reference's path starts with.
        const container = containers
          .filter((candidate) => path.startsWith(`${candidate.path}.`))
          .reduce((innermost, candidate) => (candidate.path.length > innermost.path.length ? candidate : innermost), containers[0]!);
        if (!container.containedIds.has(reference.slice(1))) {
          issues.push(issue('invalid', `the reference ${JSON.stringify(reference)} names no contained resource: ${container.path} contains no resource with id ${JSON.stringify(reference.slice(1))}`, [`${path}.reference`]));
        }
      }
    },
  };
};

/** The issues of this check on one resource, on a walk of its own. */
export function containedReferenceIssues(resource: Resource): OperationOutcomeIssue[] {
  return jsonCheckIssues(resource, containedReferenceCheck);
}
