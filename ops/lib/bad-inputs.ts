import { JSON_LIMITS } from '../../hub/src/fhir/json-limits.js';
import { SEARCH_LIMITS } from '../../hub/src/search/search-limits.js';

/**
 * Inputs an attacker sent the hub (issue 11), each of which once cost it seconds, gigabytes or a
 * 500, or stored what no FHIR server should hold; test/bad-input.test.ts and
 * ops/bench/bad-input.ts send the same list.
 */
export interface BadInput {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Relative to the FHIR base, already %-encoded as sent. */
  path: string;
  contentType?: string;
  /** Made when sent: some are megabytes. */
  body?: () => string;
  /** The status the hub answers now. */
  status: number;
  /** What the OperationOutcome's diagnostics or expression must say. */
  says: RegExp;
}

const FHIR_JSON = 'application/fhir+json';
const FORM = 'application/x-www-form-urlencoded';
const ors = (n: number) => Array.from({ length: n }, () => 'a').join(',');
const cursor = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const post = (path: string, body: string, contentType = FHIR_JSON) => ({ method: 'POST' as const, path, contentType, body: () => body });

export const BAD_INPUTS: BadInput[] = [
  {
    name: 'a 2 MB Patient with 1,000,000 extension items',
    method: 'POST',
    path: 'Patient',
    contentType: FHIR_JSON,
    body: () => `{"resourceType":"Patient","extension":[${Array.from({ length: 1_000_000 }, () => '1').join(',')}]}`,
    status: 413,
    says: new RegExp(`JSON array limit: at most ${JSON_LIMITS.maxArrayItems} items`),
  },
  {
    name: 'arrays nested 100,000 deep',
    method: 'POST',
    path: 'Patient',
    contentType: FHIR_JSON,
    body: () => `{"resourceType":"Patient","extension":${'['.repeat(100_000)}1${']'.repeat(100_000)}}`,
    status: 413,
    says: /JSON depth limit/,
  },
  { name: 'a NUL byte in a search value', method: 'GET', path: 'Patient?name=a%00b', status: 400, says: /NUL character/ },
  { name: 'a lone surrogate in a body', ...post('Patient', '{"resourceType":"Patient","name":[{"family":"a\\ud800b"}]}'), status: 400, says: /lone surrogate/ },
  {
    name: 'a lone surrogate in a search value (a crafted _cursor)',
    method: 'GET',
    path: `Patient?_cursor=${cursor({ key: 'a\ud800', id: 'x', direction: 'next' })}`,
    status: 400,
    says: /lone surrogate/,
  },
  {
    name: 'a lone surrogate in a Subscription criteria',
    ...post(
      'Subscription',
      '{"resourceType":"Subscription","status":"requested","reason":"x","criteria":"Task?owner=a\\udc00","channel":{"type":"rest-hook","endpoint":"https://example.org/hook"}}',
    ),
    status: 400,
    says: /lone surrogate/,
  },
  {
    name: '1,001 form parameters to POST Patient/_search',
    ...post('Patient/_search', Array.from({ length: 1001 }, (_, i) => `p${i}=1`).join('&'), FORM),
    status: 400,
    says: new RegExp(`search parameter limit: at most ${SEARCH_LIMITS.maxParameters} parameters`),
  },
  { name: '101 query parameters to GET Patient', method: 'GET', path: `Patient?${Array.from({ length: 101 }, () => 'name=a').join('&')}`, status: 400, says: /search parameter limit/ },
  { name: '65,536 OR values', ...post('Patient/_search', `name=${ors(65_536)}`, FORM), status: 400, says: /search OR limit.*name has 65536/ },
  { name: '65,536 OR values of _id', ...post('Patient/_search', `_id=${ors(65_536)}`, FORM), status: 400, says: /search OR limit/ },
  {
    name: 'PUT Patient/..%2Fx',
    method: 'PUT',
    path: 'Patient/..%2Fx',
    contentType: FHIR_JSON,
    body: () => '{"resourceType":"Patient","id":"../x"}',
    status: 400,
    says: /"\.\.\/x".*is not a FHIR id/,
  },
  {
    name: 'PUT with a 65-character id',
    method: 'PUT',
    path: `Patient/${'a'.repeat(65)}`,
    contentType: FHIR_JSON,
    body: () => JSON.stringify({ resourceType: 'Patient', id: 'a'.repeat(65) }),
    status: 400,
    says: /65 characters\) is not a FHIR id/,
  },
  {
    name: 'PUT with a non-ASCII id',
    method: 'PUT',
    path: 'Patient/S%C3%B8ren',
    contentType: FHIR_JSON,
    body: () => JSON.stringify({ resourceType: 'Patient', id: 'Søren' }),
    status: 400,
    says: /"Søren".*is not a FHIR id/,
  },
  {
    name: 'PUT of raw Binary content to a bad id',
    method: 'PUT',
    path: `Binary/${'c'.repeat(65)}`,
    contentType: 'application/pdf',
    body: () => '%PDF-1.4 not much of a document',
    status: 400,
    says: /Binary\.id/,
  },
  { name: 'GET with a bad id', method: 'GET', path: 'Patient/..%2Fx', status: 400, says: /is not a FHIR id/ },
  { name: 'history of a bad id', method: 'GET', path: `Patient/${'b'.repeat(65)}/_history`, status: 400, says: /is not a FHIR id/ },
  { name: 'vread with a bad version id', method: 'GET', path: 'Patient/p1/_history/1_', status: 400, says: /Patient\.meta\.versionId/ },
  { name: 'DELETE with a bad id', method: 'DELETE', path: 'Patient/a%20b', status: 400, says: /is not a FHIR id/ },
  {
    name: 'PATCH with a bad id',
    method: 'PATCH',
    path: 'Patient/%C3%A6',
    contentType: 'application/json-patch+json',
    body: () => '[{"op":"add","path":"/active","value":true}]',
    status: 400,
    says: /is not a FHIR id/,
  },
  { name: 'POST with a bad resource id', ...post('Patient', '{"resourceType":"Patient","id":"a/b"}'), status: 400, says: /Patient\.id/ },
  { name: 'a __proto__ key', ...post('Patient', '{"resourceType":"Patient","__proto__":{"active":true}}'), status: 400, says: /unknown element "__proto__"/ },
  { name: 'a constructor key', ...post('Patient', '{"resourceType":"Patient","name":[{"constructor":"x"}]}'), status: 400, says: /Patient\.name\[0\]\.constructor/ },
  {
    name: 'a contained resource with id org_1',
    ...post('Patient', JSON.stringify({ resourceType: 'Patient', contained: [{ resourceType: 'Organization', id: 'org_1', name: 'x' }], managingOrganization: { reference: '#org_1' } })),
    status: 400,
    says: /Patient\.contained\[0\]\.id/,
  },
  {
    name: 'a transaction whose entry has a NUL in a key',
    ...post('', '{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","a\\u0000":1},"request":{"method":"POST","url":"Patient"}}]}'),
    status: 400,
    says: /NUL character/,
  },
  { name: 'a malformed %-escape in the URL', method: 'GET', path: 'Patient/%E0%A4%A', status: 400, says: /Failed to decode/ },
];

/** Sends one bad input to the FHIR base `fhirBase` (no trailing slash). */
export function sendBadInput(fhirBase: string, input: BadInput, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${fhirBase}/${input.path}`, {
    method: input.method,
    headers: { ...headers, ...(input.contentType ? { 'content-type': input.contentType } : {}) },
    ...(input.body ? { body: input.body() } : {}),
  });
}
