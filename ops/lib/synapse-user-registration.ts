import { createHmac } from 'node:crypto';

/** A Matrix account on the hub's own homeserver, as Synapse's admin registration returns it. */
export interface RegisteredMatrixUser {
  userId: string;
  accessToken: string;
  deviceId: string;
}

export class MatrixUserExistsError extends Error {
  constructor(readonly localpart: string) {
    super(`Matrix user ${localpart} already exists`);
  }
}

/**
 * Registers an account through Synapse's shared-secret admin API
 * (element-hq.github.io/synapse/latest/admin_api/register_api.html): the only way to create
 * accounts when open registration is off, as it is on the hub's homeserver.
 */
export async function registerSynapseUser(options: {
  homeserverUrl: string;
  sharedSecret: string;
  localpart: string;
  password: string;
  admin?: boolean;
  displayName?: string;
}): Promise<RegisteredMatrixUser> {
  const url = new URL('/_synapse/admin/v1/register', options.homeserverUrl);
  const nonceResponse = await fetch(url);
  if (!nonceResponse.ok) throw new Error(`Synapse registration nonce: HTTP ${nonceResponse.status}`);
  const { nonce } = (await nonceResponse.json()) as { nonce: string };
  const admin = options.admin ?? false;
  // The MAC covers nonce, user, password and admin flag, NUL-separated (HMAC-SHA1 per Synapse's docs).
  const mac = createHmac('sha1', options.sharedSecret)
    .update([nonce, options.localpart, options.password, admin ? 'admin' : 'notadmin'].join('\0'))
    .digest('hex');
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      nonce,
      username: options.localpart,
      password: options.password,
      admin,
      mac,
      displayname: options.displayName,
    }),
  });
  const body = (await response.json()) as Record<string, string>;
  if (response.status === 400 && body['errcode'] === 'M_USER_IN_USE') throw new MatrixUserExistsError(options.localpart);
  if (!response.ok) throw new Error(`Synapse registration of ${options.localpart}: HTTP ${response.status} ${body['errcode'] ?? ''}`);
  return { userId: body['user_id']!, accessToken: body['access_token']!, deviceId: body['device_id']! };
}

/**
 * Ends a session (and deletes its device). Admin registration always logs the new account in;
 * a service account that logs in on its own later drops that first, unused device.
 */
export async function logOutMatrixSession(homeserverUrl: string, accessToken: string): Promise<void> {
  const response = await fetch(new URL('/_matrix/client/v3/logout', homeserverUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: '{}',
  });
  if (!response.ok) throw new Error(`logout: HTTP ${response.status}`);
}
