import { isResourceType, type InternalSchemaElement } from '@medplum/core';
import type { OperationOutcomeIssue, Reference, Resource } from 'fhir/r4.js';
import { issue } from '../operation-outcome.js';
import { forEachJsonElement, isResourceObject } from './json-elements.js';
import { elementOf, typedCheckIssues, type TypedCheck } from './typed-walk.js';
import { FHIR_ID_CHARACTERS } from '../fhir-id.js';

const CORE_PROFILE = 'http://hl7.org/fhir/StructureDefinition/';

/** `Type/id`, optionally versioned, at the end of a relative or absolute reference. */
const TYPED_TAIL = new RegExp(`(?:^|/)([A-Z][A-Za-z]+)/${FHIR_ID_CHARACTERS}(?:/_history/${FHIR_ID_CHARACTERS})?$`);

/**
 * The resource types an element's Reference may point to, from its targetProfiles; undefined
 * when any resource may be meant (`Resource`) or a profile the hub does not resolve is named.
 */
function allowedTargets(element: InternalSchemaElement): string[] | undefined {
  const profiles = element.type.filter((type) => type.code === 'Reference').flatMap((type) => type.targetProfile ?? []);
  if (profiles.length === 0) return undefined;
  const types: string[] = [];
  for (const profile of profiles) {
    if (!profile.startsWith(CORE_PROFILE)) return undefined;
    const type = profile.slice(CORE_PROFILE.length);
    if (type === 'Resource' || type === 'DomainResource') return undefined;
    types.push(type);
  }
  return types;
}

/** What the resource says about the targets of its own references: contained ids and Bundle fullUrls. */
function localTargets(resource: Resource): { contained: Map<string, string>; fullUrls: Map<string, string> } {
  const contained = new Map<string, string>();
  const fullUrls = new Map<string, string>();
  forEachJsonElement(resource, resource.resourceType, ({ value, path }) => {
    if (/\.contained\[\d+\]$/.test(path) && isResourceObject(value) && typeof value.id === 'string') contained.set(value.id, value.resourceType);
    if (/\.entry\[\d+\]$/.test(path)) {
      const entry = value as { fullUrl?: unknown; resource?: unknown };
      if (typeof entry.fullUrl === 'string' && isResourceObject(entry.resource)) fullUrls.set(entry.fullUrl, entry.resource.resourceType);
    }
  });
  return { contained, fullUrls };
}

/**
 * A reference points to a resource of a type its element allows (FHIR R4
 * references.html: Reference(Organization | Practitioner)): `Patient.managingOrganization`
 * naming a Patient is an error, as HL7's validator says, not the warning Medplum's is. The
 * type is read from the reference (relative or absolute `Type/id`), from the contained
 * resource or Bundle entry it names, or else from `Reference.type`; a `Reference.type` that
 * contradicts the reference is an error too. References whose type cannot be told (a
 * `urn:uuid` outside the Bundle, a logical identifier) are left alone.
 */
export const referenceTargetCheck: TypedCheck = (resource, issues) => {
  // Read when first needed: most references are `Type/id`, outside any Bundle.
  let targets: ReturnType<typeof localTargets> | undefined;
  const inBundle = resource.resourceType === 'Bundle';
  return {
    visitProperty: (_parent, key, _path, propertyValues, schema) => {
      const element = elementOf(schema, key);
      if (!element?.type.some((type) => type.code === 'Reference')) return;
      const allowed = allowedTargets(element);
      for (const value of propertyValues.flat()) {
        if (value.type !== 'Reference') continue;
        const { reference, type } = value.value as Reference;
        if (typeof reference !== 'string') continue;
        if (reference.startsWith('#') || inBundle) targets ??= localTargets(resource);
        const implied = reference.startsWith('#')
          ? targets!.contained.get(reference.slice(1))
          : (targets?.fullUrls.get(reference) ?? TYPED_TAIL.exec(reference)?.[1]);
        if (implied !== undefined && type !== undefined && implied !== type) {
          issues.push(issue('structure', `the reference ${reference} names a ${implied}, but its type says ${type}`, [value.path]));
          continue;
        }
        const target = implied ?? type;
        if (!allowed || target === undefined || !isResourceType(target) || allowed.includes(target)) continue;
        issues.push(
          issue(
            'structure',
            `The type '${target}' implied by the reference ${reference} is not a valid target for ${element.path} (must be one of ${allowed.join(', ')})`,
            [value.path],
          ),
        );
      }
    },
  };
};

/** The reference target issues of one resource, on a walk of their own. */
export function referenceTargetIssues(resource: Resource): OperationOutcomeIssue[] {
  return typedCheckIssues(resource, referenceTargetCheck);
}
