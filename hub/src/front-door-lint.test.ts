import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

// eslint.config.js keeps packages to each other's front doors. The imports below are linted as
// text under a made-up file name: nothing is written to disk, so `npm run lint` never sees them.
const eslint = new ESLint({ cwd: fileURLToPath(new URL('../..', import.meta.url)) });

async function refusals(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  // An ignored file or a parse error would pass the "no refusal" cases for the wrong reason.
  const unlinted = result!.messages.filter((message) => message.ruleId === null);
  if (unlinted.length > 0) throw new Error(`${filePath} was not linted: ${unlinted[0]!.message}`);
  return result!.messages.filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.message);
}

test('the hub imports the bridge and the profiles through their front doors', async () => {
  const code = "import { inThread } from '@carehub/matrix-bridge';\nimport { carehubProfiles } from '@carehub/fhir-profiles';\ninThread('$root');\ncarehubProfiles();\n";
  expect(await refusals('hub/src/delivery/example.ts', code)).toEqual([]);
});

test.each([
  ['the hub climbs into the bridge by a relative path', 'hub/src/delivery/example.ts', "import { inThread } from '../../../matrix-bridge/src/room-state.js';", /another package/],
  ['the hub opens a file inside the bridge by its package name', 'hub/src/delivery/example.ts', "import { inThread } from '@carehub/matrix-bridge/src/room-state.js';", /front door/],
  ['the hub re-exports a file inside the profiles', 'hub/src/fhir/example.ts', "export { carehubProfiles } from '../../../fhir-profiles/src/carehub-profiles.js';", /another package/],
  ['the bridge imports the hub, which depends on it', 'matrix-bridge/src/example.ts', "import { createLogger } from '@carehub/hub';", /does not depend on @carehub\/hub/],
  ['a connector imports the bridge without depending on it', 'connectors/partner-signing/example.ts', "import { inThread } from '@carehub/matrix-bridge';", /does not depend on @carehub\/matrix-bridge/],
  ['the profiles borrow a test helper from test/', 'fhir-profiles/src/example.ts', "import { startTestStack } from '../../test/support/test-stack.js';", /ops\/ or test\//],
])('refused: %s', async (_story, filePath, line, reason) => {
  const messages = await refusals(filePath, `${line}\n`);
  expect(messages).toHaveLength(1);
  expect(messages[0]).toMatch(reason);
});

test('ops/ and test/ are not packages: they may still reach inside one', async () => {
  const code = "import { sdkLoggerFor } from '../../matrix-bridge/src/sdk-logger.js';\nimport { startHub } from '@carehub/hub';\nexport { sdkLoggerFor, startHub };\n";
  expect(await refusals('ops/lib/example.ts', code)).toEqual([]);
  expect(await refusals('test/support/example.ts', code)).toEqual([]);
});
