import type { OperationOutcomeIssue, Resource } from 'fhir/r4.js';
import { isFhirId, shownId } from '../fhir-id.js';
import { issue } from '../operation-outcome.js';
import { isResourceObject, jsonCheckIssues, type JsonCheck } from './json-elements.js';

function idIssue(id: unknown, path: string): OperationOutcomeIssue {
  return issue('value', `the resource id ${shownId(id)} is not a FHIR id: 1 to 64 of A-Z, a-z, 0-9, "-" and "."`, [path]);
}

/**
 * The ids of the resource and of every resource inside it (contained, Bundle entries,
 * Parameters) match the FHIR id pattern (FHIR R4 datatypes.html#id): a resource stored under
 * another id could not be read back by URL. The one id this never sees is that of an update of a
 * resource an earlier hub stored under a refused id: the write path sets it aside, having found it
 * stored (incoming-resource.ts parseUpdate; decision 0003).
 */
export const resourceIdCheck: JsonCheck = (resource, issues) => {
  if (resource.id !== undefined && !isFhirId(resource.id)) issues.push(idIssue(resource.id, `${resource.resourceType}.id`));
  return {
    visit: ({ value, path }) => {
      if (isResourceObject(value) && value.id !== undefined && !isFhirId(value.id)) issues.push(idIssue(value.id, `${path}.id`));
    },
  };
};

/** The issues of this check on one resource, on a walk of its own. */
export function resourceIdIssues(resource: Resource): OperationOutcomeIssue[] {
  return jsonCheckIssues(resource, resourceIdCheck);
}
