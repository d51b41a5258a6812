/**
 * Registers (or updates) a SMART backend client of an Organization in the network.
 *   npm run register-client -- --config .stack/carehub.yaml --client-id clinic-x \
 *     --organization Organization/<id> --jwks public-keys.json --scopes "system/*.cruds" [--roles auditor]
 * The JWKS file holds the client's public keys ({"keys": [...]}, or one JWK).
 */
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet, JWK } from 'jose';
import { createDatabase, loadConfigFile, registerSmartClient } from '@carehub/hub';

const argument = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const clientId = argument('client-id');
const organization = argument('organization');
const jwksFile = argument('jwks');
if (!clientId || !organization?.match(/^Organization\/[A-Za-z0-9\-.]{1,64}$/) || !jwksFile) {
  process.stderr.write('usage: register-client --client-id <id> --organization Organization/<id> --jwks <file> [--scopes "system/*.rs"] [--roles auditor] [--config file]\n');
  process.exit(2);
}
const keys = JSON.parse(readFileSync(jwksFile, 'utf8')) as JSONWebKeySet | JWK;
const jwks: JSONWebKeySet = 'keys' in keys ? (keys as JSONWebKeySet) : { keys: [keys as JWK] };
if (jwks.keys.some((k) => 'd' in k)) {
  process.stderr.write('register-client: the JWKS holds a private key; register only public keys\n');
  process.exit(2);
}
const config = loadConfigFile(argument('config') ?? '.stack/carehub.yaml');
const db = createDatabase(config.database.url, 1);
await registerSmartClient(db, {
  clientId,
  organization,
  jwks,
  scopes: (argument('scopes') ?? 'system/*.rs').split(' ').filter(Boolean),
  roles: (argument('roles') ?? '').split(',').filter(Boolean),
});
await db.end();
console.log(`registered ${clientId} for ${organization}`);
