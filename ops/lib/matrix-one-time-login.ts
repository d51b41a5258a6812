/** A login that works once: an m.login.token for one account, and until when it is valid. */
export interface OneTimeLogin {
  homeserverUrl: string;
  userId: string;
  token: string;
  expiresAt: Date;
}

/**
 * Mints a one-time login token from an existing session of the account (MSC3882, Matrix
 * client-server API v1.7 `POST /_matrix/client/v1/login/get_token`). Synapse offers it only with
 * `login_via_existing_session.enabled` and allows one per account per minute.
 */
export async function mintOneTimeLogin(homeserverUrl: string, userId: string, accessToken: string): Promise<OneTimeLogin> {
  const response = await fetch(new URL('/_matrix/client/v1/login/get_token', homeserverUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: '{}',
  });
  const body = (await response.json().catch(() => ({}))) as {
    login_token?: string;
    expires_in_ms?: number;
    errcode?: string;
    retry_after_ms?: number;
    flows?: unknown;
  };
  if (response.status === 404 || body.errcode === 'M_UNRECOGNIZED') {
    throw new Error('the homeserver does not offer login/get_token: enable login_via_existing_session (see ops/stack/synapse-overrides.yaml)');
  }
  if (response.status === 429) {
    throw new Error(`the homeserver mints one login token per account per minute; try again in ${Math.ceil((body.retry_after_ms ?? 60_000) / 1000)} s`);
  }
  if (response.status === 401 && body.flows) {
    throw new Error('the homeserver asks for interactive auth before minting a login token: set login_via_existing_session.require_ui_auth to false');
  }
  if (!response.ok || !body.login_token || !body.expires_in_ms) throw new Error(`login/get_token: HTTP ${response.status} ${body.errcode ?? ''}`);
  return { homeserverUrl, userId, token: body.login_token, expiresAt: new Date(Date.now() + body.expires_in_ms) };
}
