import type { OperationOutcomeIssue, Resource } from 'fhir/r4.js';

/**
 * A code the hub could not check itself (SNOMED CT, LOINC, a value set it cannot list): what
 * a terminology server would be asked about it.
 */
export interface UncheckedCode {
  /** The element the not-checked issue names: a Coding, a `code`, a listed concept. */
  path: string;
  code: string;
  system?: string;
  version?: string;
  /** Set for a required binding: then the question is whether the value set has the code. */
  valueSet?: string;
}

const codeOfIssue = new WeakMap<OperationOutcomeIssue, UncheckedCode>();
const issuesOfResource = new WeakMap<Resource, readonly OperationOutcomeIssue[]>();

/**
 * The one way validation says "not checked": an information issue, never a silent pass. It
 * carries its code, so a terminology server can be asked afterwards (terminology-server.ts).
 */
export function notCheckedIssue(unchecked: UncheckedCode, diagnostics: string): OperationOutcomeIssue {
  const issue: OperationOutcomeIssue = { severity: 'information', code: 'not-supported', diagnostics, expression: [unchecked.path] };
  codeOfIssue.set(issue, unchecked);
  return issue;
}

/** The code a not-checked issue is about; undefined for any other issue. */
export function uncheckedCodeOf(issue: OperationOutcomeIssue): UncheckedCode | undefined {
  return codeOfIssue.get(issue);
}

/**
 * Keeps the not-checked issues of the resource just validated: the write paths get the
 * resource back from validation (incoming-resource.ts), not its issues, and the terminology
 * server step after it needs them. Each validation replaces what the last one kept.
 */
export function rememberUncheckedCodes(resource: Resource, issues: readonly OperationOutcomeIssue[]): void {
  issuesOfResource.set(resource, issues.filter((issue) => codeOfIssue.has(issue)));
}

/**
 * The not-checked issues the last validation of this very object reported; undefined when it
 * was not validated (a copy of a validated resource is another object).
 */
export function uncheckedCodeIssues(resource: Resource): readonly OperationOutcomeIssue[] | undefined {
  return issuesOfResource.get(resource);
}
