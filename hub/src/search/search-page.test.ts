import type { Access } from '../access/access-policy.js';
import { encodeCursor, parseSearchRequest, type SearchCursor } from './search-request.js';
import { pageOfRows, searchCountStatement, searchPageStatement } from './search-page.js';

const TYPE_URL = 'https://hub.example.org/fhir/Organization';
const oneLine = (sql: string) => sql.replace(/\s+/g, ' ');
const cursorOf = (url: string | undefined): SearchCursor =>
  JSON.parse(Buffer.from(new URL(url!).searchParams.get('_cursor')!, 'base64url').toString('utf8')) as SearchCursor;
const rows = (...ids: string[]) => ids.map((id) => ({ id, sort_key: id }));

test('the first page reads one row more than it shows, oldest id first', () => {
  const { sql, values } = searchPageStatement(parseSearchRequest('Organization', [['_count', '2']]), undefined);
  expect(oneLine(sql)).toBe(
    'SELECT r.resource_type, r.id, r.content::text AS json, r.id AS sort_key FROM resources r WHERE r.resource_type = $1 AND NOT r.deleted ORDER BY r.id ASC, r.id ASC LIMIT $2',
  );
  expect(values).toEqual(['Organization', 3]);
});

test('a next page continues after the cursor; a previous page walks back from it', () => {
  const next = searchPageStatement(parseSearchRequest('Organization', [['_cursor', encodeCursor({ key: 'b', id: 'b', direction: 'next' })]]), undefined);
  expect(oneLine(next.sql)).toContain('AND (r.id, r.id) > ($2::text, $3) ORDER BY r.id ASC, r.id ASC LIMIT $4');
  expect(next.values).toEqual(['Organization', 'b', 'b', 21]);
  const previous = searchPageStatement(parseSearchRequest('Organization', [['_cursor', encodeCursor({ key: 'b', id: 'b', direction: 'previous' })]]), undefined);
  expect(oneLine(previous.sql)).toContain('AND (r.id, r.id) < ($2::text, $3) ORDER BY r.id DESC, r.id DESC');
});

test('sorting by _lastUpdated keys on the timestamp, read back as UTC text', () => {
  const cursor = encodeCursor({ key: '2026-01-01T10:00:00.000000', id: 'x', direction: 'next' });
  const { sql, values } = searchPageStatement(parseSearchRequest('Task', [['_sort', '-_lastUpdated'], ['_cursor', cursor]]), undefined);
  expect(oneLine(sql)).toContain(`to_char(r.last_updated AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS sort_key`);
  expect(oneLine(sql)).toContain('AND (r.last_updated, r.id) < ($2::timestamptz, $3) ORDER BY r.last_updated DESC, r.id DESC');
  expect(values.slice(1, 3)).toEqual(['2026-01-01T10:00:00.000000Z', 'x']);
});

test("filters and the caller's access policy both narrow the search", () => {
  const caller: Access = { clientId: 'c', organization: 'Organization/o1', scopes: ['system/*.read'], roles: [] };
  const request = parseSearchRequest('Task', [['status', 'requested']]);
  const open = searchCountStatement(request, undefined);
  expect(oneLine(open.sql)).toMatch(/^SELECT count\(\*\) AS total FROM resources r WHERE r.resource_type = \$1 AND NOT r.deleted AND EXISTS \(SELECT 1 FROM search_token t /);
  expect(open.sql).not.toContain('access_grants');
  const restricted = searchCountStatement(request, caller);
  expect(restricted.sql).toContain('FROM access_grants g WHERE g.resource_type = r.resource_type AND g.id = r.id');
  expect(restricted.values).toContain('Organization/o1');
});

test('a first page with more to come links to the next one only', () => {
  const request = parseSearchRequest('Organization', [['_count', '2']]);
  const { page, link } = pageOfRows(rows('a', 'b', 'c'), request, TYPE_URL, '_count=2');
  expect(page.map((r) => r.id)).toEqual(['a', 'b']);
  expect(link.map((l) => l.relation)).toEqual(['self', 'next']);
  expect(link[0]!.url).toBe(`${TYPE_URL}?_count=2`);
  expect(new URL(link[1]!.url).searchParams.get('_count')).toBe('2');
  expect(cursorOf(link[1]!.url)).toEqual({ key: 'b', id: 'b', direction: 'next' });
});

test('the last page reached by next links back only', () => {
  const request = parseSearchRequest('Organization', [['_count', '2'], ['_cursor', encodeCursor({ key: 'b', id: 'b', direction: 'next' })]]);
  const { page, link } = pageOfRows(rows('c'), request, TYPE_URL, '_count=2');
  expect(page.map((r) => r.id)).toEqual(['c']);
  expect(link.map((l) => l.relation)).toEqual(['self', 'previous']);
  expect(cursorOf(link[1]!.url)).toEqual({ key: 'c', id: 'c', direction: 'previous' });
});

test('a previous page is read backwards and shown in order, with links both ways while there is more', () => {
  const request = parseSearchRequest('Organization', [['_count', '2'], ['_cursor', encodeCursor({ key: 'e', id: 'e', direction: 'previous' })]]);
  const { page, link } = pageOfRows(rows('d', 'c', 'b'), request, TYPE_URL, '_count=2');
  expect(page.map((r) => r.id)).toEqual(['c', 'd']);
  expect(link.map((l) => l.relation)).toEqual(['self', 'next', 'previous']);
  expect(cursorOf(link[1]!.url)).toEqual({ key: 'd', id: 'd', direction: 'next' });
  expect(cursorOf(link[2]!.url)).toEqual({ key: 'c', id: 'c', direction: 'previous' });
  const atStart = pageOfRows(rows('b', 'a'), request, TYPE_URL, '_count=2');
  expect(atStart.page.map((r) => r.id)).toEqual(['a', 'b']);
  expect(atStart.link.map((l) => l.relation)).toEqual(['self', 'next']);
});

test('an empty result links to itself only', () => {
  const { page, link } = pageOfRows([], parseSearchRequest('Organization', []), TYPE_URL, '');
  expect(page).toEqual([]);
  expect(link).toEqual([{ relation: 'self', url: `${TYPE_URL}?` }]);
});
