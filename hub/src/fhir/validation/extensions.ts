import type { OperationOutcomeIssue, Resource } from 'fhir/r4.js';
import { issue } from '../operation-outcome.js';
import { isAcceptedUnknownExtension, type KnownExtensions } from './extension-definitions.js';
import { jsonCheckIssues, type JsonCheck } from './json-elements.js';

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

/** An extension's url without a `|version` suffix: definitions are looked up by url. */
export function definitionUrlOf(url: string): string {
  const bar = url.indexOf('|');
  return bar === -1 ? url : url.slice(0, bar);
}

/** `….extension[0].extension[1]`: a sub-extension, whose url may be a name its parent defines. */
const SUB_EXTENSION_PATH = /\.(?:extension|modifierExtension)\[\d+\]\.extension\[\d+\]$/;

const isAbsoluteUrl = (url: string) => /^[a-z][a-z0-9+.-]*:/i.test(url);

/**
 * Extensions judged against the definitions the hub knows (`KnownExtensions`: FHIR R4's core
 * extensions, CareHub's own, the operator's):
 * - an extension with no known definition "could not be found so is not allowed here", as
 *   HL7's validator says, unless the operator allows its namespace (then a warning); a
 *   sub-extension named relatively (`"url": "room"`) is its parent's business;
 * - a `modifierExtension` changes the meaning of the element that holds it, so one the hub
 *   does not know is refused whatever the policy (FHIR R4 extensibility.html#modifierExtension);
 * - a known extension's value has a type its definition allows (and none, when the definition
 *   has sub-extensions only).
 * Where a known extension may be used is extension-contexts.ts's check (it needs types).
 */
export function extensionCheck(known: KnownExtensions): JsonCheck {
  return (_resource, issues) => ({
    visit: ({ value, path, key }) => {
      if ((key !== 'extension' && key !== 'modifierExtension') || Array.isArray(value)) return;
      const url = (value as { url?: unknown }).url;
      if (typeof url !== 'string') return; // the StructureDefinition validator requires the url
      if (url.includes('|')) {
        issues.push(issue('extension', `the extension URL ${url} must not contain a version (FHIR R4 extensibility.html: the url identifies the extension, not a version of it)`, [`${path}.url`]));
      }
      const definition = known.definitions.get(definitionUrlOf(url));
      if (!definition) {
        if (key === 'modifierExtension') {
          issues.push(issue('extension', `the modifier extension ${url} is unknown to this server, so it cannot honour what it changes: the resource is refused`, [path]));
        } else if (isAcceptedUnknownExtension(url, known.policy)) {
          issues.push({ severity: 'warning', code: 'extension', diagnostics: `the extension ${url} is unknown to this server and was not checked (its namespace is one HL7's validator or this server's configuration accepts)`, expression: [path] });
        } else if (isAbsoluteUrl(url) || !SUB_EXTENSION_PATH.test(path)) {
          issues.push(issue('extension', `the extension ${url} could not be found so is not allowed here: this server knows FHIR R4's core extensions, CareHub's own and those its operator loaded`, [path]));
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
    },
  });
}

/** The extension issues of one resource, on a walk of their own. */
export function extensionIssues(resource: Resource, known: KnownExtensions): OperationOutcomeIssue[] {
  return jsonCheckIssues(resource, extensionCheck(known));
}
