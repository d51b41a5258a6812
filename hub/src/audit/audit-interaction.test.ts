import { auditedInteraction } from './audit-interaction.js';

describe('which FHIR interaction a request is, for the audit trail', () => {
  test.each([
    ['GET', '/Practitioner/abc', 'read', 'R', 'Practitioner/abc'],
    ['GET', '/Practitioner/abc/_history/2', 'vread', 'R', 'Practitioner/abc'],
    ['GET', '/Practitioner/abc/_history', 'history-instance', 'R', 'Practitioner/abc'],
    ['GET', '/Practitioner/_history', 'history-type', 'R', undefined],
    ['GET', '/Practitioner', 'search-type', 'E', undefined],
    ['POST', '/Practitioner/_search', 'search-type', 'E', undefined],
    ['POST', '/Practitioner', 'create', 'C', undefined],
    ['PUT', '/Practitioner/abc', 'update', 'U', 'Practitioner/abc'],
    ['PATCH', '/Practitioner/abc', 'patch', 'U', 'Practitioner/abc'],
    ['DELETE', '/Practitioner/abc', 'delete', 'D', 'Practitioner/abc'],
    ['POST', '/', 'transaction', 'E', undefined],
    ['GET', '/metadata', 'capabilities', 'R', undefined],
  ])('%s %s is %s', (method, path, interaction, action, entity) => {
    expect(auditedInteraction(method, path)).toMatchObject({ interaction, action, entity });
  });
});
