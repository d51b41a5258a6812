import { FhirError } from '../fhir/operation-outcome.js';

/**
 * For unit tests: what a call that should refuse its input answered, as the integrator would
 * see it (status, the first issue's diagnostics and expression); undefined when it accepted.
 */
export function refusalOf(run: () => unknown): { status: number; diagnostics: string | undefined; expression: string[] | undefined } | undefined {
  try {
    run();
  } catch (error) {
    if (!(error instanceof FhirError)) throw error;
    return { status: error.status, diagnostics: error.issues[0]!.diagnostics, expression: error.issues[0]!.expression };
  }
  return undefined;
}
