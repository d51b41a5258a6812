import { randomBytes } from 'node:crypto';

/** A guest's account on the hub's homeserver, as their one-time link made it. */
export interface GuestAccount {
  userId: string;
  password: string;
}

/**
 * Guests' localparts start with this, and the homeserver's CareHub module
 * (ops/synapse-module/carehub_guest_rules.py) keeps every account so named to the rooms it is
 * invited to: it cannot create a room, invite, or join one uninvited.
 */
export const GUEST_LOCALPART_PREFIX = 'guest-';

/** The Synapse admin API's answer, as an error that says which call and why. */
async function adminCall(homeserverUrl: string, adminToken: string, method: string, path: string, body: object): Promise<Response> {
  const response = await fetch(new URL(path, homeserverUrl), {
    method,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  if (!response.ok) {
    const detail = (await response.json().catch(() => ({}))) as { errcode?: string; error?: string };
    throw new Error(`Synapse admin API ${method} ${path.replace(/@[^/]+/, '@…')}: HTTP ${response.status} ${detail.errcode ?? ''} ${detail.error ?? ''}`.trim());
  }
  return response;
}

/**
 * Makes a guest's account (Synapse admin API, PUT /_synapse/admin/v2/users/<user_id>): a random
 * localpart and password, the display name "Guest" (display names are room state, which Matrix
 * does not encrypt: a relative's name is said only in encrypted messages), no admin rights.
 */
export async function createGuestAccount(homeserverUrl: string, adminToken: string, serverName: string): Promise<GuestAccount> {
  const userId = `@${GUEST_LOCALPART_PREFIX}${randomBytes(8).toString('hex')}:${serverName}`;
  const password = randomBytes(15).toString('base64url');
  await adminCall(homeserverUrl, adminToken, 'PUT', `/_synapse/admin/v2/users/${encodeURIComponent(userId)}`, { password, displayname: 'Guest', admin: false });
  return { userId, password };
}

/**
 * Ends a guest's account for good (POST /_synapse/admin/v1/deactivate/<user_id>, erase): its
 * logins end, it leaves every room, and its profile is erased. Deactivating one already
 * deactivated succeeds, so a retry is safe.
 */
export async function deactivateGuestAccount(homeserverUrl: string, adminToken: string, userId: string): Promise<void> {
  await adminCall(homeserverUrl, adminToken, 'POST', `/_synapse/admin/v1/deactivate/${encodeURIComponent(userId)}`, { erase: true });
}
