import type { OperationOutcomeIssue } from 'fhir/r4.js';

/** `Patient.name[0].given[2]` → the parent `Patient.name[0]` and the name `given`. */
function splitLast(path: string): { parent: string; name: string } {
  const withoutIndex = path.replace(/\[\d+\]$/, '');
  const dot = withoutIndex.lastIndexOf('.');
  if (dot === -1) return { parent: withoutIndex, name: withoutIndex };
  return { parent: withoutIndex.slice(0, dot), name: withoutIndex.slice(dot + 1) };
}

/** Medplum's wording of a structure issue, and how HL7's validator places and says it. */
const REWRITES: ReadonlyArray<{ pattern: RegExp; rewrite: (path: string, match: RegExpMatchArray) => { expression: string[]; message: string } }> = [
  {
    // HL7 reports a missing element at the element that lacks it.
    pattern: /^Missing required property$/,
    rewrite: (path) => {
      const { parent, name } = splitLast(path);
      return { expression: [path, parent], message: `${name}: minimum required = 1, but only found 0` };
    },
  },
  {
    pattern: /^Invalid additional property "(.+)"$/,
    rewrite: (path, match) => ({ expression: [path, splitLast(path).parent], message: `unrecognized property '${match[1]}': R4 defines no such element here` }),
  },
  {
    pattern: /^Invalid null value$/,
    rewrite: (path) => {
      const { parent, name } = splitLast(path);
      return { expression: [path, parent], message: `the property ${name} is null: FHIR JSON leaves an absent element out instead (at ${path})` };
    },
  },
  {
    pattern: /^Invalid number of values: expected (\S+), but found (\d+)$/,
    rewrite: (path, match) => ({ expression: [path], message: `${splitLast(path).name}: expected ${match[1]} values, but found ${match[2]}` }),
  },
];

/**
 * Medplum's StructureDefinition validator puts its message in `details.text` and names the
 * missing, unknown or null element itself; HL7's validator names the element that lacks or
 * holds it. The hub's issue names both (`expression` is 0..*): the element first, then its
 * holder, where HL7 reports it. Every issue the hub answers carries its message in `diagnostics`.
 */
function asHl7Issue(issue: OperationOutcomeIssue): OperationOutcomeIssue {
  const text = issue.details?.text;
  const path = issue.expression?.[0];
  if (text === undefined) return issue;
  const { details: _details, ...rest } = issue;
  if (path !== undefined) {
    for (const { pattern, rewrite } of REWRITES) {
      const match = pattern.exec(text);
      if (!match) continue;
      const { expression, message } = rewrite(path, match);
      return { ...rest, diagnostics: message, expression };
    }
  }
  return { ...rest, diagnostics: path === undefined ? text : `${text} (at ${path})` };
}

/**
 * Medplum's issues as the hub answers them. Its reference-type warnings are left out:
 * reference-targets.ts judges reference types (as errors, and resolving absolute, contained
 * and Bundle references, which Medplum's check misreads).
 */
export function fromMedplum(issues: readonly OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  return issues.filter((issue) => !(issue.severity === 'warning' && issue.details?.text?.startsWith('Invalid reference'))).map(asHl7Issue);
}
