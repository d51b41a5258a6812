import type { Access } from '../access/access-policy.js';
import { FhirError } from '../fhir/operation-outcome.js';
import { parseSearchRequest } from './search-request.js';
import { filterCondition, SqlParameters } from './search-sql.js';

/** The SQL condition and parameters of the one filter a query string makes on `type`. */
function conditionOf(type: string, name: string, value: string, access: Access = undefined) {
  const [filter] = parseSearchRequest(type, [[name, value]]).filters;
  const p = new SqlParameters();
  const sql = filterCondition(type, 'r', filter!, p, access).replace(/\s+/g, ' ');
  return { sql, values: p.values };
}

test('parameters are numbered in the order they are added', () => {
  const p = new SqlParameters();
  expect([p.add('a'), p.add(2), p.add(['x'])]).toEqual(['$1', '$2', '$3']);
  expect(p.values).toEqual(['a', 2, ['x']]);
});

test('a string matches the start of the normalized text, accents and case ignored', () => {
  // The values are placed before the index rows' type and code: the numbering follows.
  expect(conditionOf('Organization', 'name', 'Lindegården')).toEqual({
    sql: 'EXISTS (SELECT 1 FROM search_string s WHERE s.resource_type = $2 AND s.id = r.id AND s.code = $3 AND (s.normalized LIKE $1))',
    values: ['lindegarden%', 'Organization', 'name'],
  });
});

test(':contains matches anywhere, :exact the text as stored, and LIKE wildcards in a value are literal', () => {
  expect(conditionOf('Organization', 'name:contains', '50%_off').values[0]).toBe('%50\\%\\_off%');
  const exact = conditionOf('Organization', 'name:exact', 'Fjell');
  expect(exact.sql).toContain('(s.exact = $1)');
  expect(exact.values[0]).toBe('Fjell');
});

test('alternatives become OR within one parameter', () => {
  const { sql, values } = conditionOf('Organization', 'name', 'a,b');
  expect(sql).toContain('(s.normalized LIKE $1 OR s.normalized LIKE $2)');
  expect(values.slice(0, 2)).toEqual(['a%', 'b%']);
});

test('tokens: code, system|code, |code and system| (FHIR R4 search.html#token)', () => {
  expect(conditionOf('Organization', 'identifier', '974589095')).toMatchObject({ values: ['Organization', 'identifier', '974589095'] });
  expect(conditionOf('Organization', 'identifier', '974589095').sql).toContain('(t.value = $3)');
  const both = conditionOf('Organization', 'identifier', 'urn:oid:2.16.578.1.12.4.1.4.101|974589095');
  expect(both.sql).toContain('((t.system = $3 AND t.value = $4))');
  expect(both.values.slice(2)).toEqual(['urn:oid:2.16.578.1.12.4.1.4.101', '974589095']);
  expect(conditionOf('Organization', 'identifier', '|974589095').sql).toContain('((t.system IS NULL AND t.value = $3))');
  const systemOnly = conditionOf('Organization', 'identifier', 'urn:oid:1|');
  expect(systemOnly.sql).toContain('(t.system = $3)');
  expect(systemOnly.values).toHaveLength(3);
});

test('references: Type/id, a bare id, or an absolute URL ending in Type/id', () => {
  const relative = conditionOf('PractitionerRole', 'practitioner', 'Practitioner/p1');
  expect(relative.sql).toContain('FROM search_reference x');
  expect(relative.sql).toContain('((x.target_type = $3 AND x.target_id = $4))');
  expect(relative.values.slice(2)).toEqual(['Practitioner', 'p1']);
  expect(conditionOf('PractitionerRole', 'practitioner', 'https://hub.example.org/fhir/Practitioner/p1').values.slice(2)).toEqual(['Practitioner', 'p1']);
  const bare = conditionOf('PractitionerRole', 'practitioner', 'p1');
  expect(bare.sql).toContain('(x.target_id = $3)');
  expect(() => conditionOf('PractitionerRole', 'practitioner', 'not a reference!')).toThrow(FhirError);
});

test('_id is one array parameter; each _lastUpdated value is its own bound', () => {
  expect(conditionOf('Task', '_id', 'a,b')).toEqual({ sql: 'r.id = ANY($1::text[])', values: [['a', 'b']] });
  const range = conditionOf('Task', '_lastUpdated', 'ge2026-01-01,lt2026-02-01T00:00:00Z');
  expect(range.sql).toBe('r.last_updated >= $1 AND r.last_updated < $2');
  expect(range.values).toEqual([new Date('2026-01-01'), new Date('2026-02-01T00:00:00Z')]);
  expect(conditionOf('Task', '_lastUpdated', '2026').sql).toBe('r.last_updated = $1');
});

test('a _lastUpdated that is no date is refused, naming the parameter', () => {
  for (const bad of ['yesterday', 'xx2026-01-01', '2026-13-45']) {
    let refusal: FhirError | undefined;
    try {
      conditionOf('Task', '_lastUpdated', bad);
    } catch (error) {
      refusal = error as FhirError;
    }
    expect(refusal).toBeInstanceOf(FhirError);
    expect(refusal!.issues[0]!.expression).toEqual(['_lastUpdated']);
  }
});

test("a chain matches only through resources the caller may read", () => {
  const caller: Access = { clientId: 'c', organization: 'Organization/o1', scopes: ['system/*.read'], roles: [] };
  const open = conditionOf('PractitionerRole', 'practitioner.name', 'hansen');
  expect(open.sql).toContain('JOIN resources target ON target.resource_type = x.target_type AND target.id = x.target_id AND NOT target.deleted');
  expect(open.sql).toContain('s.id = target.id');
  expect(open.sql).toMatch(/AND TRUE\)$/);
  expect(open.values).toEqual(['hansen%', 'Practitioner', 'name', 'PractitionerRole', 'practitioner', 'Practitioner']);
  const restricted = conditionOf('PractitionerRole', 'practitioner.name', 'hansen', caller);
  expect(restricted.sql).toContain('FROM access_grants g WHERE g.resource_type = target.resource_type AND g.id = target.id');
  expect(restricted.values).toContain('Organization/o1');
});
