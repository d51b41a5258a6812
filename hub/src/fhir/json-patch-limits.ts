// fast-json-patch is CommonJS; under Node's ESM loader only its default export carries its functions.
import jsonPatch, { type Operation } from 'fast-json-patch';
import type { Resource } from 'fhir/r4.js';
import { countJsonValues, JSON_LIMITS } from './json-limits.js';
import { FhirError, issue } from './operation-outcome.js';

/**
 * Applies an RFC 6902 JSON Patch to `document` (changed in place) one operation at a time,
 * refusing it (413) as soon as the result could exceed the JSON value limit. Each `copy` may
 * double a resource: twenty copies of a few hundred bytes made 50 MB and took the hub a second
 * and 300 MB, twenty-five would take gigabytes. Counting is bounded by the limit, so a refused
 * patch costs what an accepted one may.
 */
export function applyJsonPatchWithinLimits(document: Resource, operations: Operation[], maxValues = JSON_LIMITS.maxValues): Resource {
  // An upper bound of the document's size as the patch goes: removals are not subtracted.
  let values = countJsonValues(document, maxValues);
  let patched = document;
  operations.forEach((operation, index) => {
    const added =
      operation.op === 'add' || operation.op === 'replace'
        ? countJsonValues(operation.value, maxValues)
        : operation.op === 'copy'
          ? countJsonValues(jsonPatch.getValueByPointer(patched, operation.from), maxValues)
          : 0;
    values += added;
    if (values > maxValues) {
      throw new FhirError(413, [
        issue('too-costly', `JSON value limit: the patched resource would have more than ${maxValues} values (at operation ${index}, ${operation.op})`, [
          `body[${index}]`,
        ]),
      ]);
    }
    patched = jsonPatch.applyOperation(patched, operation, true, true, true, index).newDocument;
  });
  return patched;
}
