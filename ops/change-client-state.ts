/**
 * Disables, enables or deletes a SMART backend client:
 *   npm run disable-client -- --client-id clinic-x [--config .stack/carehub.yaml]
 *   npm run enable-client -- --client-id clinic-x
 *   npm run delete-client -- --client-id clinic-x
 * A disabled or deleted client gets no new tokens, and the tokens it holds are refused within
 * seconds (each hub node re-reads a client's state at most 5 s after it last did). Disabling
 * keeps the registration (its keys, scopes and roles) for enable-client; deleting removes it.
 */
import { createDatabase, deleteSmartClient, loadConfigFile, setSmartClientActive } from '@carehub/hub';

const ACTIONS = ['disable', 'enable', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

const argument = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const action = process.argv[2] as Action;
const clientId = argument('client-id');
if (!ACTIONS.includes(action) || !clientId) {
  process.stderr.write('usage: disable-client | enable-client | delete-client --client-id <id> [--config file]\n');
  process.exit(2);
}
const config = loadConfigFile(argument('config') ?? '.stack/carehub.yaml');
const db = createDatabase(config.database.url, 1);
const done = action === 'delete' ? await deleteSmartClient(db, clientId) : await setSmartClientActive(db, clientId, action === 'enable');
await db.end();
if (!done) {
  process.stderr.write(`${action}-client: there is no client ${clientId}\n`);
  process.exit(1);
}
console.log(`${clientId}: ${{ disable: 'disabled; its tokens are refused within 5 s', enable: 'enabled', delete: 'deleted; its tokens are refused within 5 s' }[action]}`);
