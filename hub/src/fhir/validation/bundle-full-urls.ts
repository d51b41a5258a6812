import type { Bundle, OperationOutcomeIssue, Resource } from 'fhir/r4.js';
import { issue } from '../operation-outcome.js';
import { FHIR_ID_CHARACTERS } from '../fhir-id.js';

/** An absolute URI: a scheme, then anything (http(s) URLs, urn:uuid:, urn:oid:). */
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
/** A RESTful fullUrl ends in [type]/[id]; versioned ones (…/_history/…) are refused apart. */
const RESTFUL_TAIL = new RegExp(`/([A-Z][A-Za-z]+)/(${FHIR_ID_CHARACTERS})$`);

/**
 * The rules HL7's validator holds a Bundle's `fullUrl`s to (FHIR R4 bundle.html#bundle-unique):
 * each is an absolute URI, never a version-specific one (bdl-8), names the entry's own resource
 * when it is a RESTful URL, and is unique in the Bundle unless the entries differ in
 * meta.versionId (bdl-7; a history Bundle repeats fullUrls by design).
 */
export function bundleFullUrlIssues(resource: Resource): OperationOutcomeIssue[] {
  if (resource.resourceType !== 'Bundle') return [];
  const bundle = resource as Bundle;
  const issues: OperationOutcomeIssue[] = [];
  const seen = new Map<string, Set<string | undefined>>();
  (Array.isArray(bundle.entry) ? bundle.entry : []).forEach((entry, index) => {
    const fullUrl: unknown = entry?.fullUrl;
    const path = `Bundle.entry[${index}]`;
    if (typeof fullUrl !== 'string') return;
    if (!ABSOLUTE.test(fullUrl)) {
      issues.push(issue('value', `the fullUrl must be an absolute URL (not '${fullUrl.slice(0, 100)}')`, [path]));
      return;
    }
    if (fullUrl.includes('/_history/')) issues.push(issue('value', `the fullUrl '${fullUrl.slice(0, 100)}' must not be version specific (bdl-8)`, [path]));
    const tail = RESTFUL_TAIL.exec(fullUrl);
    const inner = entry.resource;
    if (tail && inner && !fullUrl.includes('/_history/') && (tail[1] !== inner.resourceType || (inner.id !== undefined && tail[2] !== inner.id))) {
      issues.push(issue('value', `the fullUrl '${fullUrl.slice(0, 100)}' does not name the entry's resource (${inner.resourceType}/${inner.id ?? 'no id'})`, [path]));
    }
    if (bundle.type === 'history') return;
    const versions = seen.get(fullUrl) ?? new Set<string | undefined>();
    const version = inner?.meta?.versionId;
    if (versions.has(version)) issues.push(issue('value', `the fullUrl '${fullUrl.slice(0, 100)}' appears more than once (bdl-7)`, [path]));
    versions.add(version);
    seen.set(fullUrl, versions);
  });
  return issues;
}
