/**
 * Prepares what the hub needs before its first start: the database schema and the bot's
 * Matrix account on the hub's own homeserver. Idempotent. Used by `npm run setup`.
 *   node --import tsx ops/provision-hub.ts --config .stack/carehub.yaml
 */
import { readFile } from 'node:fs/promises';
import { loadConfigFile } from '../hub/src/config/load-config.js';
import { createDatabase } from '../hub/src/store/database.js';
import { migrate } from '../hub/src/store/migrate.js';
import { logOutMatrixSession, MatrixUserExistsError, registerSynapseUser } from '../matrix-bridge/src/synapse-user-registration.js';
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
