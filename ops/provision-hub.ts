/**
 * Prepares what the hub needs before its first start: the database schema, the token-signing
 * key and an operator client (when auth is on), and the bot's Matrix account on the hub's own
 * homeserver. Idempotent. Used by `npm run setup`.
 *   node --import tsx ops/provision-hub.ts --config .stack/carehub.yaml
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { JWK } from 'jose';
import { createDatabase, createStorageKey, generateSigningJwk, loadConfigFile, migrate, registerSmartClient } from '@carehub/hub';
import { generateClientKeys } from './lib/smart-client-credentials.js';
import { logOutMatrixSession, MatrixUserExistsError, registerSynapseUser } from './lib/synapse-user-registration.js';
import { readRegistrationSecret, readStackInfo } from './stack-info.js';

const configFlag = process.argv.indexOf('--config');
const config = loadConfigFile(configFlag >= 0 ? process.argv[configFlag + 1]! : '.stack/carehub.yaml');

const db = createDatabase(config.database.url, 1);
try {
  const applied = await migrate(db);
  console.log(applied.length ? `[setup] migrations applied: ${applied.join(', ')}` : '[setup] database schema is current');
} finally {
  await db.end();
}

// The hub's token-signing key, and a county operator client for the demo and for operators'
// own tools (directory loads, audits): made once, kept with the other dev secrets.
if (config.auth.enabled && config.auth.signingKeyFile && !existsSync(config.auth.signingKeyFile)) {
  writeFileSync(config.auth.signingKeyFile, JSON.stringify(await generateSigningJwk()), { mode: 0o600 });
  console.log('[setup] generated the token-signing key');
}
// The first OpenPGP storage key for documents at rest (rotation adds more: npm run rotate-storage-key).
if (config.documents.storageKeyDir && !existsSync(`${config.documents.storageKeyDir}/current`)) {
  console.log(`[setup] generated the document storage key ${await createStorageKey(config.documents.storageKeyDir)}`);
}
const operatorKeyFile = `${dirname(config.matrix.bot.passwordFile)}/operator-client.jwk`;
if (!existsSync(operatorKeyFile)) {
  writeFileSync(operatorKeyFile, JSON.stringify((await generateClientKeys('carehub-operator')).privateJwk), { mode: 0o600 });
}
{
  const { d: _private, ...publicJwk } = JSON.parse(readFileSync(operatorKeyFile, 'utf8')) as JWK;
  const clientsDb = createDatabase(config.database.url, 1);
  await registerSmartClient(clientsDb, {
    clientId: 'carehub-operator',
    organization: 'Organization/carehub-operator',
    jwks: { keys: [{ ...publicJwk, use: 'sig' }] },
    scopes: ['system/*.cruds'],
    roles: ['auditor', 'operator'],
  });
  await clientsDb.end();
  console.log(`[setup] SMART client carehub-operator (private key ${operatorKeyFile})`);
}

const localpart = config.matrix.bot.userId.slice(1).split(':')[0]!;
try {
  const registration = await registerSynapseUser({
    homeserverUrl: config.matrix.homeserverUrl,
    sharedSecret: readRegistrationSecret(readStackInfo()),
    localpart,
    password: (await readFile(config.matrix.bot.passwordFile, 'utf8')).trim(),
    displayName: config.matrix.bot.displayName,
  });
  await logOutMatrixSession(config.matrix.homeserverUrl, registration.accessToken);
  console.log(`[setup] registered the hub's bot ${config.matrix.bot.userId}`);
} catch (error) {
  if (!(error instanceof MatrixUserExistsError)) throw error;
  console.log(`[setup] bot account ${config.matrix.bot.userId} exists`);
}
