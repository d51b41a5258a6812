import type { TypedValueWithPath } from '@medplum/core';
import type { CodeableConcept, Coding, OperationOutcomeIssue, Resource } from 'fhir/r4.js';
import { issue } from '../operation-outcome.js';
import { r4ValueSetCodes, type ValueSetCodes } from './r4-value-sets.js';
import { elementOf, typedCheckIssues, type TypedCheck } from './typed-walk.js';
import { notCheckedIssue } from './unchecked-codes.js';

type Judgement = 'in' | 'not-in' | 'not-checked';

function judgeCoding(valueSet: ValueSetCodes | undefined, code: string, system: string | undefined): Judgement {
  if (!valueSet) return 'not-checked';
  if (system !== undefined) {
    if (valueSet.codes.get(system)?.has(code)) return 'in';
    return valueSet.uncheckedSystems.has(system) ? 'not-checked' : 'not-in';
  }
  // A `code` element carries no system: the value set's systems are meant.
  for (const codes of valueSet.codes.values()) if (codes.has(code)) return 'in';
  return valueSet.uncheckedSystems.size > 0 ? 'not-checked' : 'not-in';
}

function codingsOf(value: TypedValueWithPath, path: string): Array<{ coding: Coding; path: string }> | undefined {
  if (value.type === 'Coding') return [{ coding: value.value as Coding, path }];
  if (value.type === 'CodeableConcept') {
    return ((value.value as CodeableConcept).coding ?? []).map((coding, index) => ({ coding, path: `${path}.coding[${index}]` }));
  }
  return undefined;
}

function shownSystem(system: string | undefined): string {
  return system === undefined ? '' : ` (system ${system})`;
}

/**
 * Codes of elements with a **required** binding come from the bound value set (FHIR R4
 * terminologies.html#required): `Task.status: "bogus"` is refused. The R4 definitions list the
 * value sets of codes FHIR defines itself; a code from a system the hub cannot list (SNOMED CT,
 * BCP 47, …) is reported as not checked, an information issue, never taken as valid.
 * Runs on a resource the StructureDefinition validator accepted: it walks the resource by type.
 */
export const requiredBindingCheck: TypedCheck = (_resource, issues, paths) => {
  const notChecked = (code: string, system: string | undefined, path: string, valueSetUrl: string): void => {
    const diagnostics = `the code ${JSON.stringify(code)}${shownSystem(system)} was not checked against the value set ${valueSetUrl}: this server cannot list that value set's codes`;
    issues.push(notCheckedIssue({ path, code, ...(system === undefined ? {} : { system }), valueSet: valueSetUrl }, diagnostics));
  };
  const notIn = (code: string, system: string | undefined, path: string, element: string, valueSet: ValueSetCodes): void => {
    issues.push(issue('code-invalid', `the code ${JSON.stringify(code)}${shownSystem(system)} is not in the value set ${valueSet.name} (${valueSet.url}), which ${element} must take its codes from (required binding)`, [path]));
  };
  return {
    visitProperty: (_parent, key, _path, propertyValues, schema) => {
      const element = elementOf(schema, key);
      const binding = element?.binding;
      if (!element || binding?.strength !== 'required' || !binding.valueSet) return;
      const valueSetUrl = binding.valueSet;
      const valueSet = r4ValueSetCodes(valueSetUrl);
      for (const value of propertyValues.flat()) {
        const codings = codingsOf(value, paths.hl7(value.path));
        if (!codings) {
          if (typeof value.value !== 'string') continue;
          const judgement = judgeCoding(valueSet, value.value, undefined);
          if (judgement === 'not-checked') notChecked(value.value, undefined, paths.hl7(value.path), valueSetUrl);
          else if (judgement === 'not-in' && valueSet) notIn(value.value, undefined, paths.hl7(value.path), element.path, valueSet);
          continue;
        }
        const judged = codings.flatMap(({ coding, path }) => (coding.code === undefined ? [] : [{ coding, path, judgement: judgeCoding(valueSet, coding.code, coding.system) }]));
        // A CodeableConcept meets the binding when one of its codings is in the value set.
        if (judged.length === 0 || judged.some(({ judgement }) => judgement === 'in')) continue;
        // The other codings may come from anywhere (translations): while one is not checked,
        // the concept may still meet the binding.
        const unchecked = judged.filter(({ judgement }) => judgement === 'not-checked');
        if (unchecked.length > 0) {
          for (const { coding, path } of unchecked) notChecked(coding.code!, coding.system, path, valueSetUrl);
        } else if (valueSet) {
          for (const { coding, path } of judged) notIn(coding.code!, coding.system, `${path}.code`, element.path, valueSet);
        }
      }
    },
  };
};

/** The required-binding issues of one resource, on a walk of their own. */
export function requiredBindingIssues(resource: Resource): OperationOutcomeIssue[] {
  return typedCheckIssues(resource, requiredBindingCheck);
}
