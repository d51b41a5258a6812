import type { OperationOutcomeIssue, Resource } from 'fhir/r4.js';
import { issue } from '../operation-outcome.js';
import { jsonCheckIssues, type JsonCheck } from './json-elements.js';

/** The entities XML itself defines: XHTML's others (`&reg;`, `&nbsp;`) need a DTD FHIR's narrative has none of. */
const XML_ENTITIES: ReadonlySet<string> = new Set(['lt', 'gt', 'amp', 'quot', 'apos']);

const ENTITY = /&([^;\s&<]*);?/g;

/**
 * A narrative's `div` is XHTML in the XHTML namespace (FHIR R4 narrative.html#xhtml), parsed
 * as XML: a named entity other than XML's five, or an `&` that starts no entity, makes it
 * malformed for every receiver that parses it, so HL7's validator refuses it ("Invalid entity
 * in the XHTML"). Numeric references (`&#174;`) are the way to write such characters.
 */
export const narrativeXhtmlCheck: JsonCheck = (resource, issues) => {
  return {
    visit: ({ value, path, key }) => {
      if (key !== 'text' || Array.isArray(value)) return;
      const div = (value as { div?: unknown }).div;
      if (typeof div !== 'string') return;
      const at = [`${path}.div`];
      if (!/^<div\s[^>]*xmlns\s*=\s*["']http:\/\/www\.w3\.org\/1999\/xhtml["']/.test(div)) {
        issues.push(issue('value', 'the narrative must be a <div> in the XHTML namespace (xmlns="http://www.w3.org/1999/xhtml")', at));
      }
      for (const [entity, name = ''] of div.matchAll(ENTITY)) {
        if (!entity.endsWith(';') || !(XML_ENTITIES.has(name) || /^#(\d+|x[0-9a-fA-F]+)$/.test(name))) {
          issues.push(issue('value', `Invalid entity in the XHTML ('${entity.slice(0, 20)}'): XHTML in FHIR knows only &lt; &gt; &amp; &quot; &apos; and numeric references such as &#174;`, at));
          break;
        }
      }
    },
  };
};

/** The issues of this check on one resource, on a walk of its own. */
export function narrativeXhtmlIssues(resource: Resource): OperationOutcomeIssue[] {
  return jsonCheckIssues(resource, narrativeXhtmlCheck);
}
