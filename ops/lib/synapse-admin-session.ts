import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { logOutMatrixSession, MatrixUserExistsError, registerSynapseUser } from './synapse-user-registration.js';

/** A session of a Synapse server admin, for the admin API; close() logs it out. */
export interface SynapseAdminSession {
  userId: string;
  accessToken: string;
  close(): Promise<void>;
}

/**
 * Opens a session of the operators' own Synapse admin account (the hub's bot is deliberately
 * not an admin). The first time, the account is registered with the shared secret and its
 * random password kept in `passwordFile`, beside the bot's; later, it logs in with it.
 */
export async function openSynapseAdminSession(options: {
  homeserverUrl: string;
  sharedSecret: string;
  localpart: string;
  passwordFile: string;
}): Promise<SynapseAdminSession> {
  const { homeserverUrl, localpart, passwordFile } = options;
  let session: { userId: string; accessToken: string };
  if (existsSync(passwordFile)) {
    session = await passwordLogin(homeserverUrl, localpart, readFileSync(passwordFile, 'utf8').trim());
  } else {
    const password = randomBytes(24).toString('base64url');
    try {
      session = await registerSynapseUser({ homeserverUrl, sharedSecret: options.sharedSecret, localpart, password, admin: true, displayName: 'CareHub operators' });
    } catch (error) {
      if (error instanceof MatrixUserExistsError) {
        throw new Error(`the Synapse admin account ${localpart} exists but its password file ${passwordFile} is missing`, { cause: error });
      }
      throw error;
    }
    writeFileSync(passwordFile, password, { mode: 0o600 });
  }
  return { ...session, close: () => logOutMatrixSession(homeserverUrl, session.accessToken) };
}

async function passwordLogin(homeserverUrl: string, localpart: string, password: string): Promise<{ userId: string; accessToken: string }> {
  const response = await fetch(new URL('/_matrix/client/v3/login', homeserverUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user: localpart }, password, initial_device_display_name: 'CareHub ops' }),
  });
  const body = (await response.json()) as { user_id?: string; access_token?: string; errcode?: string };
  if (!response.ok || !body.user_id || !body.access_token) throw new Error(`login of the Synapse admin account ${localpart}: HTTP ${response.status} ${body.errcode ?? ''}`);
  return { userId: body.user_id, accessToken: body.access_token };
}

/**
 * A short-lived session acting as another local user (Synapse admin API "login as a user",
 * `POST /_synapse/admin/v1/users/<user_id>/login`). It makes no device; log it out when done.
 */
export async function actAsUser(homeserverUrl: string, admin: SynapseAdminSession, userId: string, validForMs = 5 * 60_000): Promise<string> {
  const response = await fetch(new URL(`/_synapse/admin/v1/users/${encodeURIComponent(userId)}/login`, homeserverUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ valid_until_ms: Date.now() + validForMs }),
  });
  const body = (await response.json()) as { access_token?: string; errcode?: string; error?: string };
  if (response.status === 404) throw new Error(`${userId} has no account on this homeserver`);
  if (!response.ok || !body.access_token) throw new Error(`admin login as ${userId}: HTTP ${response.status} ${body.errcode ?? ''} ${body.error ?? ''}`);
  return body.access_token;
}
