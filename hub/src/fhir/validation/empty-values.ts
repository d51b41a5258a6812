import type { OperationOutcomeIssue, Resource } from 'fhir/r4.js';
import { issue } from '../operation-outcome.js';
import { jsonCheckIssues, type JsonCheck } from './json-elements.js';

/**
 * No array and no object is empty (FHIR R4 json.html: "Objects are never empty"; an array that
 * is present has at least one item): an element without values is left out, not sent empty.
 */
export const emptyValueCheck: JsonCheck = (resource, issues) => {
  return {
    visit: ({ value, path }) => {
      if (Array.isArray(value)) {
        if (value.length === 0) issues.push(issue('structure', `${path} is an empty array: leave the element out if it has no values`, [path]));
      } else if (Object.keys(value as object).length === 0) {
        issues.push(issue('structure', `${path} is an empty object: leave the element out if it has no content`, [path]));
      }
    },
  };
};

/** The issues of this check on one resource, on a walk of its own. */
export function emptyValueIssues(resource: Resource): OperationOutcomeIssue[] {
  return jsonCheckIssues(resource, emptyValueCheck);
}
