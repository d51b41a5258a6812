import { encodeCursor, parseSearchRequest, type ChainFilter, type ParameterFilter } from './search-request.js';
import { refusalOf } from '../testing/refusal.js';

test('a directory search with no parameters asks for the first 20 by id', () => {
  const request = parseSearchRequest('Organization', []);
  expect(request).toMatchObject({
    resourceType: 'Organization',
    filters: [],
    count: 20,
    sort: { by: '_id', descending: false },
    cursor: undefined,
    include: [],
    revinclude: [],
    summaryCount: false,
    elements: undefined,
    unknown: [],
  });
});

test('repeated names are AND, commas are OR, and empty alternatives are dropped', () => {
  const request = parseSearchRequest('Organization', [
    ['name', 'Lindegården, Fjell ,'],
    ['active', 'true'],
  ]);
  expect(request.filters).toHaveLength(2);
  const [name, active] = request.filters as [ParameterFilter, ParameterFilter];
  expect(name).toMatchObject({ kind: 'parameter', modifier: undefined, values: ['Lindegården', 'Fjell'] });
  expect(name.parameter).toMatchObject({ code: 'name', kind: 'string' });
  expect(active.parameter).toMatchObject({ code: 'active', kind: 'token' });
  expect(active.values).toEqual(['true']);
});

test('_id and _lastUpdated are answered from the resources table', () => {
  const request = parseSearchRequest('Task', [
    ['_id', 'a,b'],
    ['_lastUpdated', 'ge2026-01-01,le2026-02-01'],
  ]);
  expect(request.filters).toEqual([
    { kind: '_id', values: ['a', 'b'] },
    { kind: '_lastUpdated', values: ['ge2026-01-01', 'le2026-02-01'] },
  ]);
});

test('string parameters take :exact and :contains; anything else is refused, naming the parameter', () => {
  const exact = parseSearchRequest('Practitioner', [['name:exact', 'Kari']]).filters[0] as ParameterFilter;
  expect(exact.modifier).toBe('exact');
  expect(refusalOf(() => parseSearchRequest('Practitioner', [['name:missing', 'true']]))).toEqual({
    status: 400,
    diagnostics: 'modifier :missing is not supported on Practitioner.name',
    expression: ['name:missing'],
  });
  expect(refusalOf(() => parseSearchRequest('Organization', [['active:exact', 'true']]))?.status).toBe(400);
});

test('a chain follows a reference with one target type without naming it', () => {
  const request = parseSearchRequest('PractitionerRole', [['practitioner.name', 'hansen']]);
  const chain = request.filters[0] as ChainFilter;
  expect(chain.kind).toBe('chain');
  expect(chain.reference.code).toBe('practitioner');
  expect(chain.targetType).toBe('Practitioner');
  expect(chain.inner).toMatchObject({ kind: 'parameter', values: ['hansen'] });
  expect((chain.inner as ParameterFilter).parameter.code).toBe('name');
});

test('a chain through a reference with several target types must name one', () => {
  const refusal = refusalOf(() => parseSearchRequest('Task', [['owner.name', 'x']]));
  expect(refusal?.status).toBe(400);
  expect(refusal?.diagnostics).toMatch(/^chain owner\.name: name the target type, e\.g\. owner:/);
  const chain = parseSearchRequest('Task', [['owner:Organization.name', 'Fjell']]).filters[0] as ChainFilter;
  expect(chain.targetType).toBe('Organization');
});

test('parameters the hub does not know are listed, not applied', () => {
  const request = parseSearchRequest('Organization', [
    ['colour', 'blue'],
    ['name', ''],
    ['_format', 'json'],
    ['_pretty', 'true'],
    ['_include', 'Organization:nothing'],
  ]);
  expect(request.filters).toEqual([]);
  expect(request.unknown).toEqual(['colour', 'name', '_include=Organization:nothing']);
});

test('_count is capped at 1000 and must be a positive whole number', () => {
  expect(parseSearchRequest('Organization', [['_count', '5000']]).count).toBe(1000);
  expect(parseSearchRequest('Organization', [['_count', '7']]).count).toBe(7);
  for (const bad of ['0', '-1', '2.5', 'ten']) {
    expect(refusalOf(() => parseSearchRequest('Organization', [['_count', bad]]))).toMatchObject({ status: 400, expression: ['_count'] });
  }
});

test('_sort takes _id or _lastUpdated, descending with a minus', () => {
  expect(parseSearchRequest('Task', [['_sort', '-_lastUpdated']]).sort).toEqual({ by: '_lastUpdated', descending: true });
  expect(parseSearchRequest('Task', [['_sort', '_id']]).sort).toEqual({ by: '_id', descending: false });
  expect(refusalOf(() => parseSearchRequest('Task', [['_sort', 'status']]))?.expression).toEqual(['_sort']);
});

test('_summary=count, _elements and includes are read', () => {
  const request = parseSearchRequest('PractitionerRole', [
    ['_summary', 'count'],
    ['_elements', 'code,telecom'],
    ['_include', 'PractitionerRole:practitioner'],
    ['_include', 'PractitionerRole:organization:Organization'],
    ['_revinclude', 'Task:owner'],
  ]);
  expect(request.summaryCount).toBe(true);
  expect(request.elements).toEqual(['code', 'telecom']);
  expect(request.include.map((i) => [i.sourceType, i.reference.code, i.targetType])).toEqual([
    ['PractitionerRole', 'practitioner', undefined],
    ['PractitionerRole', 'organization', 'Organization'],
  ]);
  expect(request.revinclude.map((i) => [i.sourceType, i.reference.code, i.targetType])).toEqual([['Task', 'owner', 'PractitionerRole']]);
  expect(refusalOf(() => parseSearchRequest('Task', [['_summary', 'true']]))?.expression).toEqual(['_summary']);
});

test('an _include from another type, or a _revinclude that cannot point here, is unknown', () => {
  const request = parseSearchRequest('Organization', [
    ['_include', 'PractitionerRole:practitioner'],
    ['_revinclude', 'PractitionerRole:practitioner'],
  ]);
  expect(request.include).toEqual([]);
  expect(request.revinclude).toEqual([]);
  expect(request.unknown).toEqual(['_include=PractitionerRole:practitioner', '_revinclude=PractitionerRole:practitioner']);
});

test('a cursor the server handed out reads back; anything else is refused', () => {
  const cursor = { key: '2026-01-01T10:00:00.000000', id: 'abc', direction: 'previous' as const };
  expect(parseSearchRequest('Task', [['_cursor', encodeCursor(cursor)]]).cursor).toEqual(cursor);
  const forged = Buffer.from(JSON.stringify({ key: 1, id: 'x', direction: 'next' })).toString('base64url');
  for (const bad of ['not-base64-json', forged, encodeCursor({ ...cursor, direction: 'sideways' as 'next' })]) {
    expect(refusalOf(() => parseSearchRequest('Task', [['_cursor', bad]]))).toEqual({
      status: 400,
      diagnostics: '_cursor is not a cursor this server handed out',
      expression: ['_cursor'],
    });
  }
  // Decoded JSON may carry what no URL can.
  expect(refusalOf(() => parseSearchRequest('Task', [['_cursor', encodeCursor({ ...cursor, key: 'a\u0000b' })]]))?.status).toBe(400);
});
