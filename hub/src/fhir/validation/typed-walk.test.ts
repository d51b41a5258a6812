import type { Observation } from 'fhir/r4.js';
import { loadFhirDefinitions } from '../resource-validator.js';
import { walkByType, type TypedCheck } from './typed-walk.js';

beforeAll(() => loadFhirDefinitions());

test('one walk serves every check, in order, and names choice values and primitive extensions as HL7 does', () => {
  const observation = {
    resourceType: 'Observation',
    status: 'final',
    code: { text: 'weight' },
    valueQuantity: { value: 70, unit: 'kg' },
    component: [{ code: { text: 'x' }, valueString: 'y' }],
    _status: { extension: [{ url: 'http://example.org/x', valueBoolean: true }] },
  } as Observation;
  const seen: string[] = [];
  const namer: TypedCheck = (_resource, issues, paths) => ({
    visitProperty: (_parent, key, _path, values) => {
      if (['valueQuantity', 'valueString', 'extension'].includes(key)) for (const value of values.flat()) issues.push({ severity: 'information', code: 'informational', expression: [paths.hl7(value.path)] });
    },
  });
  const counter: TypedCheck = () => ({ visitProperty: (_parent, key) => void seen.push(key), finish: () => void seen.push('(finished)') });
  const issues: Parameters<typeof walkByType>[2] = [];
  walkByType(observation, [namer, counter], issues);
  expect(issues.map((i) => i.expression![0])).toEqual(
    expect.arrayContaining(['Observation.value.ofType(Quantity)', 'Observation.component[0].value.ofType(string)', 'Observation.status.extension[0]']),
  );
  expect(seen).toContain('valueQuantity');
  expect(seen.at(-1)).toBe('(finished)');
});
