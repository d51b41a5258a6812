import type { OperationOutcomeIssue, Resource } from 'fhir/r4.js';
import { issue } from '../operation-outcome.js';
import { coreExtensionDefinitions } from './core-extensions.js';
import { forEachJsonElement } from './json-elements.js';

/** FHIR R4's primitive types, whose names start in lower case (`valueDateTime` is a dateTime). */
const PRIMITIVE_TYPES: ReadonlySet<string> = new Set([
  'base64Binary', 'boolean', 'canonical', 'code', 'date', 'dateTime', 'decimal', 'id', 'instant', 'integer',
  'markdown', 'oid', 'positiveInt', 'string', 'time', 'unsignedInt', 'uri', 'url', 'uuid',
]);

/** The value[x] an extension carries, as its key and FHIR type (`valueUri` → uri), if any. */
function valueOf(extension: object): { key: string; type: string } | undefined {
  const key = Object.keys(extension).find((name) => name.startsWith('value') && name.length > 'value'.length);
  if (!key) return undefined;
  const suffix = key.slice('value'.length);
  const primitive = suffix.charAt(0).toLowerCase() + suffix.slice(1);
  return { key, type: PRIMITIVE_TYPES.has(primitive) ? primitive : suffix };
}

/**
 * Extensions the hub can judge:
 * - a `modifierExtension` changes the meaning of the element that holds it, so a receiver that
 *   does not know it must refuse the resource (FHIR R4 extensibility.html#modifierExtension);
 *   the hub knows the R4 core extensions;
 * - a core extension's value has a type its definition allows (and none, when the definition
 *   has no value[x]).
 * Extensions the hub does not know are let through: anyone may define one (extensibility.html).
 */
export function extensionIssues(resource: Resource): OperationOutcomeIssue[] {
  const definitions = coreExtensionDefinitions();
  const issues: OperationOutcomeIssue[] = [];
  forEachJsonElement(resource, resource.resourceType, ({ value, path, key }) => {
    if ((key !== 'extension' && key !== 'modifierExtension') || Array.isArray(value)) return;
    const url = (value as { url?: unknown }).url;
    if (typeof url !== 'string') return; // the StructureDefinition validator requires the url
    const definition = definitions.get(url);
    if (!definition) {
      if (key === 'modifierExtension') {
        issues.push(issue('extension', `the modifier extension ${url} is unknown to this server, so it cannot honour what it changes: the resource is refused`, [path]));
      }
      return;
    }
    const carried = valueOf(value as object);
    if (!carried) return; // a value-less extension with sub-extensions; their cardinality is the definition's
    if (definition.valueTypes.length === 0) {
      issues.push(issue('extension', `the extension ${url} has no value of its own (its definition has sub-extensions only), but ${carried.key} was given`, [path]));
    } else if (!definition.valueTypes.includes(carried.type)) {
      issues.push(issue('extension', `the extension ${url} takes a value of type ${definition.valueTypes.join(' or ')}, not ${carried.type} (${carried.key})`, [path]));
    }
  });
  return issues;
}
