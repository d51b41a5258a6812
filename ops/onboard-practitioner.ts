/**
 * Onboards a practice that has no Matrix account: registers one for the PractitionerRole's
 * practitioner on the hub's homeserver, links it to the role through a Matrix Endpoint, and
 * prints a one-time login for it.
 *   npm run onboard-practitioner -- --practitioner-role <id> [--localpart name] [--config .stack/carehub.yaml]
 *   npm run onboard-practitioner -- --practitioner-role <id> --reissue     (a new one-time login)
 * The hub must be running (`npm start`): the directory is changed through its FHIR API, as the
 * county operator.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { JWK } from 'jose';
import { loadConfigFile } from '@carehub/hub';
import type { OneTimeLogin } from './lib/matrix-one-time-login.js';
import { onboardPractitioner, reissueOneTimeLogin } from './lib/practitioner-onboarding.js';
import { fetchAccessToken } from './lib/smart-client-credentials.js';
import { openSynapseAdminSession } from './lib/synapse-admin-session.js';
import { TypedFhirClient } from './lib/typed-fhir-client.js';
import { readRegistrationSecret, readStackInfo, STACK_DIR } from './stack-info.js';

/** Only what onboarding reads and writes, though the operator client may have everything. */
const OPERATOR_SCOPES = 'system/PractitionerRole.ru system/Practitioner.r system/Endpoint.cr';
/** The operators' Synapse admin account, made on the first --reissue. */
const SYNAPSE_ADMIN_LOCALPART = 'carehub-ops';

const argument = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const roleId = argument('practitioner-role');
const reissue = process.argv.includes('--reissue');
if (!roleId?.match(/^[A-Za-z0-9\-.]{1,64}$/) || (reissue && argument('localpart'))) {
  process.stderr.write('usage: onboard-practitioner --practitioner-role <id> [--localpart name | --reissue] [--config file]\n');
  process.exit(2);
}

function printLogin(login: OneTimeLogin): void {
  console.log(`  homeserver:  ${login.homeserverUrl}`);
  console.log(`  Matrix ID:   ${login.userId}`);
  console.log(`  login token: ${login.token}`);
  console.log(`  valid until: ${login.expiresAt.toISOString()}, for one login`);
  console.log('\nGive the token to the practice over a trusted channel. Their client logs in with it once, as a new device:');
  console.log(`  POST ${new URL('/_matrix/client/v3/login', login.homeserverUrl).href} {"type":"m.login.token","token":"<token>"}`);
}

try {
  const config = loadConfigFile(argument('config') ?? join(STACK_DIR, 'carehub.yaml'));
  const secretsDir = dirname(config.matrix.bot.passwordFile);
  const hubUrl = config.http.publicBaseUrl;
  let token: string | undefined;
  if (config.auth.enabled) {
    const operatorKey = JSON.parse(readFileSync(join(secretsDir, 'operator-client.jwk'), 'utf8')) as JWK;
    token = await fetchAccessToken(`${hubUrl}/auth/token`, 'carehub-operator', operatorKey, OPERATOR_SCOPES).catch((error: Error) => {
      throw new Error(error.message === 'fetch failed' ? `cannot reach the hub at ${hubUrl}: is it running (npm start)?` : error.message, { cause: error });
    });
  }
  const hub = {
    fhir: new TypedFhirClient(`${hubUrl}/fhir`, token),
    homeserverUrl: config.matrix.homeserverUrl,
    registrationSecret: readRegistrationSecret(readStackInfo()),
  };
  if (reissue) {
    const admin = await openSynapseAdminSession({
      homeserverUrl: hub.homeserverUrl,
      sharedSecret: hub.registrationSecret,
      localpart: SYNAPSE_ADMIN_LOCALPART,
      passwordFile: join(secretsDir, 'synapse-admin-password'),
    });
    try {
      const login = await reissueOneTimeLogin(hub, admin, { practitionerRoleId: roleId });
      console.log(`A new one-time login for PractitionerRole/${roleId} (earlier tokens stay valid until used or expired):`);
      printLogin(login);
    } finally {
      await admin.close();
    }
  } else {
    const onboarded = await onboardPractitioner(hub, { practitionerRoleId: roleId, ...(argument('localpart') ? { localpart: argument('localpart')! } : {}) });
    console.log(`Onboarded PractitionerRole/${roleId}: new account ${onboarded.matrixUserId}, linked as Endpoint/${onboarded.endpointId}`);
    printLogin(onboarded.login);
    console.log(`A new one-time login later: npm run onboard-practitioner -- --practitioner-role ${roleId} --reissue`);
  }
} catch (error) {
  process.stderr.write(`onboard-practitioner: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
