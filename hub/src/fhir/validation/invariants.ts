import {
  evalFhirPathTyped,
  parseFhirPath,
  toTypedValue,
  UCUM,
  type Constraint,
  type FhirPathAtom,
  type InternalTypeSchema,
  type TypedValue,
  type TypedValueWithPath,
} from '@medplum/core';
import type { OperationOutcomeIssue, Period, Quantity, Range, Resource } from 'fhir/r4.js';
import { issue } from '../operation-outcome.js';
import { typedCheckIssues, type TypedCheck } from './typed-walk.js';

/**
 * Where HL7's validator evaluates an R4 invariant other than as published, or Medplum's FHIRPath
 * engine cannot evaluate it faithfully. Keyed by `<element path>:<key>`; each says why.
 */
interface InvariantCorrection {
  why: string;
  /** The expression HL7's validator evaluates instead of R4's text. */
  expression?: string;
  /** Judges the value in place of the engine: true, false, or undefined where it cannot tell. */
  holds?: (value: unknown) => boolean | undefined;
}

const CORRECTIONS: Readonly<Record<string, InvariantCorrection>> = {
  'Questionnaire.item:que-12': {
    why: 'R4 wrote "> 2" for "more than one enableWhen"; HL7 (and R4B) count from two',
    expression: 'enableWhen.count() > 1 implies enableBehavior.exists()',
  },
  'Period:per-1': {
    why: 'Medplum compares dateTimes as text; FHIRPath compares them as times, at the precision both have',
    holds: (value) => {
      const { start, end } = value as Period;
      return start === undefined || end === undefined ? true : isNotAfter(start, end);
    },
  },
  'Extension:ext-1': {
    why: 'judged in code: the engine resolved value[x] on every extension, a tenth of the invariants\' time',
    holds: (value) => {
      const extension = value as Record<string, unknown>;
      return (extension.extension !== undefined) !== Object.keys(extension).some((key) => key.startsWith('value') && key.length > 'value'.length);
    },
  },
  'Range:rng-2': {
    why: 'Medplum compares Quantities by number alone, whatever their units: judged only in one unit',
    holds: (value) => {
      const { low, high } = value as Range;
      if (low?.value === undefined || high?.value === undefined) return low === undefined || high === undefined ? true : undefined;
      return sameUnit(low, high) ? low.value <= high.value : undefined;
    },
  },
};

function sameUnit(a: Quantity, b: Quantity): boolean {
  return a.system === b.system && a.code === b.code && (a.code !== undefined || a.unit === b.unit);
}

const DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(T\d{2}:\d{2}:\d{2}(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * `start <= end` as FHIRPath compares dateTimes (fhirpath.html#comparison): two times with zones
 * as instants; otherwise year, month and day as far as both go, and empty (so the invariant
 * fails) where they agree that far but one is more precise. Undefined: a time without a zone.
 */
function isNotAfter(start: string, end: string): boolean | undefined {
  const a = DATE_TIME.exec(start);
  const b = DATE_TIME.exec(end);
  if (!a || !b) return undefined;
  if (a[4] && b[4]) return a[5] && b[5] ? Date.parse(start) <= Date.parse(end) : undefined;
  for (let part = 1; part <= 3; part++) {
    if (a[part] === undefined || b[part] === undefined) return a[part] === b[part];
    if (a[part] !== b[part]) return Number(a[part]) < Number(b[part]);
  }
  return a[4] === b[4];
}

/**
 * Keys another check makes: ele-1 empty-values.ts, dom-3 and ref-1 contained-references.ts
 * (R4's ref-1 is also empty, so fails, on a Reference without `reference`).
 */
const CHECKED_ELSEWHERE: ReadonlySet<string> = new Set(['ele-1', 'dom-3', 'ref-1']);

/** Keys Medplum skips on the definitions it does evaluate (validation.ts skippedConstraintKeys). */
const SKIPPED_BY_MEDPLUM: ReadonlySet<string> = new Set(['org-1', 'sdf-19']);

interface Invariant {
  key: string;
  description: string;
  atom: FhirPathAtom;
  correction?: InvariantCorrection;
  /** An element whose absence makes the invariant hold, so the engine need not be asked. */
  vacuousWithout?: string;
}

/**
 * The element an invariant is vacuously true without: `pattern.empty() or (…)` (eld-7) and
 * `contained.contained.empty()` (dom-2) hold on any value lacking `pattern` or `contained`,
 * by FHIRPath's own rules. Most values lack it, and the engine is slow on choice elements, so
 * these are judged without it (docs/decisions/0004).
 */
function vacuousWithout(expression: string): string | undefined {
  // `or` binds tighter than `implies` and as tight as `xor`: with either after it, the first
  // term alone does not decide.
  const either = /^([a-z][A-Za-z]*)\.empty\(\) or /.exec(expression);
  if (either && !/ (implies|xor) /.test(expression)) return either[1];
  const terms = expression.split(' and ');
  const first = /^([a-z][A-Za-z]*)\./.exec(terms[0]!)?.[1];
  if (first && terms.every((term) => new RegExp(`^${first}(\\.[a-z][A-Za-z]*)+\\.empty\\(\\)$`).test(term.trim()))) return first;
  return undefined;
}

/** Whether an object has the element `name`, a choice of it (`fixedString`) or its primitive extension (`_name`). */
function hasElement(value: unknown, name: string): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const object = value as Record<string, unknown>;
  if (object[name] !== undefined || object[`_${name}`] !== undefined) return true;
  for (const key of Object.keys(object)) {
    if (key.length > name.length && key.startsWith(name) && key.charCodeAt(name.length) >= 65 && key.charCodeAt(name.length) <= 90) return true;
  }
  return false;
}

interface TypeInvariants {
  /** For a datatype value or a resource below the root: Medplum evaluates none of them. */
  all: readonly Invariant[];
  /** For the root resource and backbone elements: those Medplum skips or evaluates as R4 wrote them. */
  missedByMedplum: readonly Invariant[];
}

const atoms = new Map<string, FhirPathAtom>();
const invariantsBySchema = new WeakMap<InternalTypeSchema, TypeInvariants>();

function atomOf(expression: string): FhirPathAtom {
  let atom = atoms.get(expression);
  if (!atom) {
    atom = parseFhirPath(expression);
    atoms.set(expression, atom);
  }
  return atom;
}

function invariantsOf(schema: InternalTypeSchema): TypeInvariants {
  let cached = invariantsBySchema.get(schema);
  if (cached) return cached;
  const all: Invariant[] = [];
  const missedByMedplum: Invariant[] = [];
  for (const constraint of schema.constraints ?? []) {
    if (constraint.severity !== 'error' || CHECKED_ELSEWHERE.has(constraint.key)) continue;
    const correction = CORRECTIONS[`${schema.path}:${constraint.key}`];
    const invariant = toInvariant(constraint, correction);
    all.push(invariant);
    if (SKIPPED_BY_MEDPLUM.has(constraint.key) || correction?.expression) missedByMedplum.push(invariant);
  }
  cached = { all, missedByMedplum };
  invariantsBySchema.set(schema, cached);
  return cached;
}

function toInvariant(constraint: Constraint, correction: InvariantCorrection | undefined): Invariant {
  const expression = correction?.expression ?? constraint.expression;
  const without = correction?.holds ? undefined : vacuousWithout(expression);
  return { key: constraint.key, description: constraint.description, atom: atomOf(expression), ...(correction ? { correction } : {}), ...(without ? { vacuousWithout: without } : {}) };
}

/** An invariant holds where its expression is the one value true (Medplum's isExpressionTrue). */
function isTrue(result: TypedValue[]): boolean {
  return result.length === 1 && result[0]!.value === true;
}

const CONTAINED_ITEM = /\.contained\[\d+\]$/;
const UCUM_VALUE = toTypedValue(UCUM);

/**
 * The invariants (error-severity constraints) Medplum's validator leaves out: those a datatype
 * defines on its root (Period's per-1, Quantity's qty-3, Attachment's att-1, …) for every value
 * of that type, those of resources below the root (contained, Bundle entries), org-1 and sdf-19,
 * and the few R4 publishes wrongly, as HL7's validator corrects them (CORRECTIONS). Evaluated
 * with Medplum's FHIRPath engine and the variables FHIRPath gives an invariant (fhirpath.html
 * §2.1.9.1.7: %resource is the resource holding the element, %rootResource its container).
 * Runs on a resource the StructureDefinition validator accepted: it walks the resource by type.
 */
export const invariantCheck: TypedCheck = (resource, issues, paths) => {
  const resources: Array<{ value: TypedValue; contained: boolean }> = [];

  const evaluate = (value: TypedValueWithPath, invariants: readonly Invariant[]): void => {
    if (invariants.length === 0) return;
    const current = resources.at(-1)!;
    const container = current.contained ? (resources.at(-2) ?? current) : current;
    const variables = { '%context': value, '%ucum': UCUM_VALUE, '%resource': current.value, '%rootResource': container.value };
    const path = paths.hl7(value.path);
    for (const invariant of invariants) {
      if (invariant.vacuousWithout !== undefined && !hasElement(value.value, invariant.vacuousWithout)) continue;
      let holds: boolean | undefined;
      try {
        holds = invariant.correction?.holds ? invariant.correction.holds(value.value) : isTrue(evalFhirPathTyped(invariant.atom, [value], variables));
      } catch (error) {
        issues.push({ severity: 'information', code: 'not-supported', diagnostics: `the constraint ${invariant.key} could not be evaluated: ${(error as Error).message}`, expression: [path] });
        continue;
      }
      if (holds === false) issues.push(issue('invariant', `Constraint failed: ${invariant.key}: '${invariant.description}'`, [path]));
    }
  };

  return {
    onEnterResource: (_path, value) => {
      resources.push({ value, contained: CONTAINED_ITEM.test(value.path) });
    },
    onExitResource: () => {
      resources.pop();
    },
    onEnterObject: (_path, value, schema) => {
      const invariants = invariantsOf(schema);
      const belowRoot = value.path !== resource.resourceType;
      evaluate(value, schema.kind === 'complex-type' || (schema.kind === 'resource' && belowRoot) ? invariants.all : invariants.missedByMedplum);
    },
    visitProperty: () => undefined,
  };
};

/** The invariant issues of one resource, on a walk of their own. */
export function invariantIssues(resource: Resource): OperationOutcomeIssue[] {
  return typedCheckIssues(resource, invariantCheck);
}
