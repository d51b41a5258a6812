import type { Endpoint } from 'fhir/r4.js';
import { CAREHUB_ENDPOINT_CONNECTION_SYSTEM, matrixUserOfEndpoint, parseMatrixAddress } from './matrix-address.js';

describe('Matrix addresses in directory Endpoints', () => {
  test.each([
    ['matrix:u/alice:carehub.test', '@alice:carehub.test'],
    ['matrix:u/@alice:carehub.test', '@alice:carehub.test'],
    ['@alice:carehub.test', '@alice:carehub.test'],
    ['matrix:u/dr.jensen:example.org:8448', '@dr.jensen:example.org:8448'],
    ['matrix:u/alice:carehub.test?action=chat', '@alice:carehub.test'],
  ])('%s reaches %s', (address, userId) => {
    expect(parseMatrixAddress(address)).toBe(userId);
  });

  test.each(['mailto:alice@example.org', 'matrix:r/room:carehub.test', '@Alice', 'alice:carehub.test', ''])(
    '%s is not a Matrix user',
    (address) => {
      expect(parseMatrixAddress(address)).toBeUndefined();
    },
  );

  const endpoint = (overrides: Partial<Endpoint>): Endpoint => ({
    resourceType: 'Endpoint',
    status: 'active',
    connectionType: { system: CAREHUB_ENDPOINT_CONNECTION_SYSTEM, code: 'matrix' },
    payloadType: [{ text: 'referrals' }],
    address: 'matrix:u/alice:carehub.test',
    ...overrides,
  });

  test('only active Matrix (or TI-Messenger "tim") endpoints reach anyone', () => {
    expect(matrixUserOfEndpoint(endpoint({}))).toBe('@alice:carehub.test');
    expect(matrixUserOfEndpoint(endpoint({ connectionType: { code: 'tim' } }))).toBe('@alice:carehub.test');
    expect(matrixUserOfEndpoint(endpoint({ status: 'off' }))).toBeUndefined();
    expect(matrixUserOfEndpoint(endpoint({ connectionType: { code: 'direct-project' } }))).toBeUndefined();
  });
});
