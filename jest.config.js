// Jest runs the TypeScript sources as native ES modules (matrix-js-sdk and fhir-kit-client are
// ESM-only), so the test commands set NODE_OPTIONS=--experimental-vm-modules.
//
// Two tiers (projects):
// - unit: the tests beside the code in the four packages; pure logic, no PostgreSQL, Redis or
//   Synapse. `npm run test:unit` runs them in parallel.
// - stack: test/, against the real PostgreSQL, Redis and Synapse, one suite at a time.
// `npm test` runs both, in one run, so its summary line counts every test.
const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  moduleNameMapper: {
    // Sources import siblings as './x.js' (NodeNext); map to the .ts file for ts-jest.
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // A package's front door (its package.json "exports"): connectors/ keeps one folder per
    // outside system, so its index.ts sits at the top; the others' in src/.
    '^@carehub/connectors$': '<rootDir>/connectors/index.ts',
    '^@carehub/([^/]+)$': '<rootDir>/$1/src/index.ts',
  },
  testMatch: ['**/*.test.ts'],
};

/** @type {import('jest').Config} */
export default {
  projects: [
    { ...shared, displayName: 'unit', roots: ['<rootDir>/hub', '<rootDir>/matrix-bridge', '<rootDir>/fhir-profiles', '<rootDir>/connectors'] },
    { ...shared, displayName: 'stack', roots: ['<rootDir>/test'] },
  ],
  // A global option (projects cannot set their own): the stack suites' homeserver round-trips.
  testTimeout: 60_000,
  reporters: ['default', '<rootDir>/test/support/plain-summary-reporter.js'],
  // The stack suites talk to the real Postgres, Redis and Synapse; running them one at a time
  // keeps the 2-core CI machine from timing out homeserver round-trips. `test:unit` asks for more.
  maxWorkers: 1,
  // matrix-js-sdk leaves timers behind after stopClient() (request time-outs of up to 110 s, the
  // 6-hour capabilities poll); every socket, pool and queue of ours is closed in afterAll hooks.
  forceExit: true,
};
