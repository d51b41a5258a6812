// Jest runs the TypeScript sources as native ES modules (matrix-js-sdk and fhir-kit-client are
// ESM-only), so the test command sets NODE_OPTIONS=--experimental-vm-modules.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  moduleNameMapper: {
    // Sources import siblings as './x.js' (NodeNext); map to the .ts file for ts-jest.
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  roots: ['<rootDir>/hub', '<rootDir>/matrix-bridge', '<rootDir>/fhir-profiles', '<rootDir>/connectors', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  reporters: ['default', '<rootDir>/test/support/plain-summary-reporter.js'],
  // Every suite talks to the real Postgres, Redis and Synapse; running them one at a time keeps
  // the 2-core CI machine from timing out homeserver round-trips.
  maxWorkers: 1,
  testTimeout: 60_000,
  // matrix-js-sdk leaves timers behind after stopClient() (request time-outs of up to 110 s, the
  // 6-hour capabilities poll); every socket, pool and queue of ours is closed in afterAll hooks.
  forceExit: true,
};
