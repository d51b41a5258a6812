import { readFileSync } from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The packages (npm workspaces) and the @carehub packages each declares it depends on.
const PACKAGES = ['fhir-profiles', 'matrix-bridge', 'connectors', 'hub'];
const dependsOn = (folder) =>
  Object.keys(JSON.parse(readFileSync(new URL(`./${folder}/package.json`, import.meta.url), 'utf8')).dependencies ?? {});

/**
 * A package is used through its front door: `@carehub/<name>` (its package.json "exports", an
 * index.ts), never a file inside it, and only if its package.json says it depends on it (a
 * package the hub depends on must not import the hub back). ops/ and test/ are not packages and
 * may reach inside (docs/decisions/0005-packages-and-front-doors.md).
 */
const frontDoorsOnly = (folder) => {
  const others = PACKAGES.filter((other) => other !== folder);
  const allowed = new Set(dependsOn(folder));
  return {
    files: [`${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: others
            .map((other) => `@carehub/${other}`)
            .filter((name) => !allowed.has(name))
            .map((name) => ({ name, message: `${folder}/package.json does not depend on ${name} (packages depend one way: nothing imports the hub).` })),
          patterns: [
            { regex: '^@carehub/[^/]+/', message: "Import the package's front door ('@carehub/<name>'), not a file inside it." },
            {
              regex: `^(\\.\\./)+(${[...others, 'ops', 'test'].join('|')})(/|$)`,
              message: "That path climbs into another package (import its front door, '@carehub/<name>') or into ops/ or test/ (which packages do not import).",
            },
          ],
        },
      ],
    },
  };
};

export default tseslint.config(
  { ignores: ['node_modules/', '.stack/', 'dist/', 'coverage/', '**/.tsbuild/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly', indexedDB: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // Command-line tools and tests talk to a person on the console.
    files: ['ops/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  ...PACKAGES.map(frontDoorsOnly),
);
