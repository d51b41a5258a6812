import type { CodeSystem, CodeSystemConcept, Coding, OperationOutcomeIssue, Quantity, Resource, ValueSetComposeInclude, ValueSetComposeIncludeConcept } from 'fhir/r4.js';
import { issue } from '../operation-outcome.js';
import { r4CodeSystem } from './r4-value-sets.js';
import { requiredBindingCheck } from './required-bindings.js';
import { typedCheckIssues, type TypedCheck } from './typed-walk.js';
import { notCheckedIssue, rememberUncheckedCodes, uncheckedCodeOf } from './unchecked-codes.js';

/** Quantity and the types profiled from it: each may name its unit by system and code. */
const QUANTITY_TYPES: ReadonlySet<string> = new Set(['Quantity', 'Age', 'Count', 'Distance', 'Duration', 'SimpleQuantity', 'MoneyQuantity']);

/** HL7's validator compares displays ignoring case and runs of white space. */
function normalised(display: string): string {
  return display.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** A canonical without its version: `supplements` may name `http://loinc.org|2.70`. */
function unversioned(canonical: string): { url: string; version?: string } {
  const bar = canonical.indexOf('|');
  return bar < 0 ? { url: canonical } : { url: canonical.slice(0, bar), version: canonical.slice(bar + 1) };
}

interface CodeToJudge {
  code: string;
  system: string;
  version?: string | undefined;
  display?: string | undefined;
  /** The element the issues name: a Coding or Quantity (issues at its `code`), or a listed concept. */
  path: string;
  isCoding: boolean;
}

function judge({ code, system, version, display, path, isCoding }: CodeToJudge, issues: OperationOutcomeIssue[]): void {
  const known = r4CodeSystem(system);
  // Another version of an R4 code system may have other codes: the hub has only 4.0.1's.
  if (!known || (version !== undefined && version !== known.version)) {
    const shownVersion = version === undefined ? '' : ` version ${version}`;
    issues.push(
      notCheckedIssue(
        { path, code, system, ...(version === undefined ? {} : { version }) },
        `the code ${JSON.stringify(code)} was not checked against its code system ${system}${shownVersion}: this server cannot list that code system's codes`,
      ),
    );
    return;
  }
  // A system whose codes the hub assigns itself (the owner tag): any code is its own.
  if (!known.concepts) return;
  const names = known.concepts.get(code);
  if (!names) {
    // HL7's validator's wording, so messages read alike whichever validator a client used.
    issues.push(issue('code-invalid', `Unknown code '${code}' in the CodeSystem '${system}' version '${known.version}'`, [isCoding ? `${path}.code` : path]));
    return;
  }
  if (display === undefined || names.length === 0 || names.some((name) => normalised(name) === normalised(display))) return;
  issues.push({
    severity: 'warning',
    code: 'invalid',
    diagnostics: `Wrong Display Name '${display}' for ${system}#${code}. Valid display is ${names.map((name) => `'${name}'`).join(' or ')}`,
    expression: [`${path}.display`],
  });
}

/** A supplement's concepts (FHIR R4 codesystem.html#supplements) must be codes of the system it supplements. */
function supplementedConcepts(concepts: readonly CodeSystemConcept[], supplements: string, path: string, issues: OperationOutcomeIssue[]): void {
  const { url, version } = unversioned(supplements);
  concepts.forEach((concept, index) => {
    const at = `${path}.concept[${index}]`;
    judge({ code: concept.code, system: url, version, path: at, isCoding: false }, issues);
    supplementedConcepts(concept.concept ?? [], supplements, at, issues);
  });
}

/**
 * Every code that names its code system (a Coding, also inside a CodeableConcept, whatever its
 * binding; a Quantity's unit; a ValueSet's listed concepts; a supplement's concepts) is checked against that code
 * system when FHIR R4 defines it completely: an unknown code is refused, a display none of the
 * concept's names is a warning. A code of any other system (SNOMED CT, LOINC, ICD-10-GM, …) is
 * reported as not checked, an information issue, never taken as valid.
 * Runs on a resource the StructureDefinition validator accepted: it walks the resource by type.
 */
export const codingCheck: TypedCheck = (_resource, issues, paths) => ({
    visitProperty: (parent, key, _path, propertyValues) => {
      if (parent.type === 'CodeSystem' && key === 'concept') {
        const codeSystem = parent.value as CodeSystem;
        if (codeSystem.supplements && codeSystem.concept) supplementedConcepts(codeSystem.concept, codeSystem.supplements, paths.hl7(parent.path), issues);
        return;
      }
      const include = parent.type === 'ValueSetComposeInclude' ? (parent.value as ValueSetComposeInclude) : undefined;
      for (const value of propertyValues.flat()) {
        if (value.type === 'Coding') {
          const { code, system, version, display } = value.value as Coding;
          if (code !== undefined && system !== undefined) judge({ code, system, version, display, path: paths.hl7(value.path), isCoding: true }, issues);
        } else if (QUANTITY_TYPES.has(value.type)) {
          // A unit's code is a code too (UCUM, mostly); its `unit` is free text, not a display.
          const { code, system } = value.value as Quantity;
          if (code !== undefined && system !== undefined) judge({ code, system, path: paths.hl7(value.path), isCoding: true }, issues);
        } else if (include?.system !== undefined && key === 'concept') {
          const { code, display } = value.value as ValueSetComposeIncludeConcept;
          judge({ code, system: include.system, version: include.version, display, path: paths.hl7(value.path), isCoding: false }, issues);
        }
      }
    },
});

/** The code-system issues of one resource, on a walk of their own. */
export function codingIssues(resource: Resource): OperationOutcomeIssue[] {
  return typedCheckIssues(resource, codingCheck);
}

/**
 * The checks of codes together: required bindings (required-bindings.ts) and code systems
 * (above), so a coding neither can check is reported as not checked once, by the binding's
 * check, which says what it was to be checked against. Keeps those issues for the terminology
 * server step (unchecked-codes.ts).
 */
export const codedValueCheck: TypedCheck = (resource, issues, paths) => {
  const bound: OperationOutcomeIssue[] = [];
  const coded: OperationOutcomeIssue[] = [];
  const bindings = requiredBindingCheck(resource, bound, paths);
  const codings = codingCheck(resource, coded, paths);
  return {
    visitProperty: (parent, key, path, values, schema) => {
      bindings.visitProperty(parent, key, path, values, schema);
      codings.visitProperty(parent, key, path, values, schema);
    },
    finish: () => {
      const reported = new Set(bound.flatMap((i) => uncheckedCodeOf(i)?.path ?? []));
      const alreadyReported = (i: OperationOutcomeIssue) => {
        const unchecked = uncheckedCodeOf(i);
        return unchecked !== undefined && reported.has(unchecked.path);
      };
      const found = [...bound, ...coded.filter((i) => !alreadyReported(i))];
      rememberUncheckedCodes(resource, found);
      issues.push(...found);
    },
  };
};

/** The issues of codes of one resource, on a walk of their own. */
export function codedValueIssues(resource: Resource): OperationOutcomeIssue[] {
  return typedCheckIssues(resource, codedValueCheck);
}
