import type { Bundle } from 'fhir/r4.js';
import { bundleFullUrlIssues } from './bundle-full-urls.js';

const bundle = (entry: Bundle['entry'], type: Bundle['type'] = 'collection'): Bundle => ({ resourceType: 'Bundle', type, entry });

describe("a Bundle's fullUrls", () => {
  test('absolute URIs that name their resources pass: urn:uuid, urn:oid and RESTful URLs', () => {
    expect(
      bundleFullUrlIssues(
        bundle([
          { fullUrl: 'urn:uuid:8f0c1a55-0000-4000-8000-000000000001', resource: { resourceType: 'Patient' } },
          { fullUrl: 'urn:oid:1.2.208.176.1.1', resource: { resourceType: 'Organization' } },
          { fullUrl: 'https://hub.example.org/fhir/Patient/p1', resource: { resourceType: 'Patient', id: 'p1' } },
        ]),
      ),
    ).toEqual([]);
  });

  test('a relative one is refused at its entry, as HL7 reports it', () => {
    const issues = bundleFullUrlIssues(bundle([{ fullUrl: 'Patient/1', resource: { resourceType: 'Patient', id: '1' } }]));
    expect(issues).toEqual([expect.objectContaining({ severity: 'error', expression: ['Bundle.entry[0]'], diagnostics: "the fullUrl must be an absolute URL (not 'Patient/1')" })]);
  });

  test('a versioned one, one naming another resource, and a repeated one are refused', () => {
    const issues = bundleFullUrlIssues(
      bundle([
        { fullUrl: 'https://hub.example.org/fhir/Patient/p1/_history/2', resource: { resourceType: 'Patient', id: 'p1' } },
        { fullUrl: 'https://hub.example.org/fhir/Patient/p2', resource: { resourceType: 'Patient', id: 'p3' } },
        { fullUrl: 'urn:uuid:8f0c1a55-0000-4000-8000-000000000009', resource: { resourceType: 'Patient' } },
        { fullUrl: 'urn:uuid:8f0c1a55-0000-4000-8000-000000000009', resource: { resourceType: 'Patient' } },
      ]),
    );
    expect(issues.map((i) => i.expression![0])).toEqual(['Bundle.entry[0]', 'Bundle.entry[1]', 'Bundle.entry[3]']);
  });

  test('a history Bundle repeats a fullUrl by design', () => {
    const url = 'https://hub.example.org/fhir/Patient/p1';
    expect(bundleFullUrlIssues(bundle([{ fullUrl: url, resource: { resourceType: 'Patient', id: 'p1' } }, { fullUrl: url, resource: { resourceType: 'Patient', id: 'p1' } }], 'history'))).toEqual([]);
  });
});
