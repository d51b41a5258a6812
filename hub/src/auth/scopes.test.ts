import { grantScopes, parseScope, scopeAllows } from './scopes.js';

describe('SMART system scopes', () => {
  test.each([
    ['system/Practitioner.read', 'Practitioner', 'read', true],
    ['system/Practitioner.read', 'Practitioner', 'search', true],
    ['system/Practitioner.read', 'Practitioner', 'create', false],
    ['system/Practitioner.write', 'Practitioner', 'delete', true],
    ['system/*.read', 'Organization', 'search', true],
    ['system/*.*', 'Task', 'update', true],
    ['system/Task.rs', 'Task', 'read', true],
    ['system/Task.rs', 'Task', 'update', false],
    ['system/Task.cud', 'Task', 'update', true],
    ['system/Task.cud', 'Task', 'search', false],
    ['system/Task.cruds', 'Patient', 'read', false],
    ['patient/Task.read', 'Task', 'read', false],
  ] as const)('%s on %s for %s: %s', (scope, type, interaction, allowed) => {
    expect(scopeAllows([scope], type, interaction)).toBe(allowed);
  });

  test('malformed v2 letters are not a scope', () => {
    expect(parseScope('system/Task.sr')).toBeUndefined();
    expect(parseScope('system/Task.x')).toBeUndefined();
  });

  test('a request is narrowed to what the client may have', () => {
    expect(grantScopes(['system/Practitioner.rs', 'system/Organization.c', 'system/*.cruds'], ['system/*.rs'])).toEqual(['system/Practitioner.rs']);
    expect(grantScopes(['system/*.read'], ['system/*.read', 'system/Task.cud'])).toEqual(['system/*.read']);
  });
});
