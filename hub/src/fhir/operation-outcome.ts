import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';

/**
 * An error the API answers with a FHIR OperationOutcome and an HTTP status. Every refusal the
 * hub makes goes through this one type, so integrators always get the same shape
 * (FHIR R4 http.html: errors SHOULD carry an OperationOutcome).
 */
export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly issues: OperationOutcomeIssue[],
  ) {
    super(issues.map((i) => i.diagnostics ?? i.details?.text ?? i.code).join('; '));
  }

  get outcome(): OperationOutcome {
    return { resourceType: 'OperationOutcome', issue: this.issues };
  }
}

export function issue(code: OperationOutcomeIssue['code'], diagnostics: string, expression?: string[]): OperationOutcomeIssue {
  return { severity: 'error', code, diagnostics, ...(expression ? { expression } : {}) };
}

export const badRequest = (message: string, expression?: string[]) => new FhirError(400, [issue('invalid', message, expression)]);
export const notFound = (message: string) => new FhirError(404, [issue('not-found', message)]);
export const unprocessable = (message: string, expression?: string[]) =>
  new FhirError(422, [issue('processing', message, expression)]);
export const unsupportedMediaType = (message: string) => new FhirError(415, [issue('not-supported', message)]);

export function informationOutcome(message: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: message }] };
}
