import type { JSONWebKeySet } from 'jose';
import type { Queryable } from '../store/database.js';

export interface SmartClient {
  clientId: string;
  /** "Organization/<id>": whose system this is. */
  organization: string;
  jwks: JSONWebKeySet;
  scopes: string[];
  roles: string[];
  active: boolean;
}

/** Registers (or replaces) a backend client; used by the ops command and by tests. */
export async function registerSmartClient(db: Queryable, client: Omit<SmartClient, 'active'> & { active?: boolean }): Promise<void> {
  await db.query(
    `INSERT INTO smart_clients (client_id, organization, jwks, scopes, roles, active) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (client_id) DO UPDATE SET organization = $2, jwks = $3, scopes = $4, roles = $5, active = $6`,
    [client.clientId, client.organization, JSON.stringify(client.jwks), client.scopes, client.roles, client.active ?? true],
  );
}

export async function findSmartClient(db: Queryable, clientId: string): Promise<SmartClient | undefined> {
  const { rows } = await db.query<{ client_id: string; organization: string; jwks: JSONWebKeySet; scopes: string[]; roles: string[]; active: boolean }>(
    'SELECT client_id, organization, jwks, scopes, roles, active FROM smart_clients WHERE client_id = $1',
    [clientId],
  );
  const row = rows[0];
  return row && { clientId: row.client_id, organization: row.organization, jwks: row.jwks, scopes: row.scopes, roles: row.roles, active: row.active };
}

/**
 * Whether a client may still act: registered and active. Access tokens are checked against
 * this (through ClientStateCache), so a disabled or deleted client's tokens stop working.
 */
export async function isSmartClientActive(db: Queryable, clientId: string): Promise<boolean> {
  const { rows } = await db.query<{ active: boolean }>('SELECT active FROM smart_clients WHERE client_id = $1', [clientId]);
  return rows[0]?.active === true;
}

/** Disables or re-enables a client; false if there is no such client. */
export async function setSmartClientActive(db: Queryable, clientId: string, active: boolean): Promise<boolean> {
  const result = await db.query('UPDATE smart_clients SET active = $2 WHERE client_id = $1', [clientId, active]);
  return result.rowCount === 1;
}

/**
 * Removes a client for good; false if there was none. Its used assertion ids stay until they
 * expire, so a client registered again under the same id cannot replay one.
 */
export async function deleteSmartClient(db: Queryable, clientId: string): Promise<boolean> {
  const result = await db.query('DELETE FROM smart_clients WHERE client_id = $1', [clientId]);
  return result.rowCount === 1;
}

/**
 * Records an assertion's jti; false if this client used it before (a replay). Expired entries
 * are pruned as it goes, so the table holds only assertions that could still be replayed.
 */
export async function useAssertionOnce(db: Queryable, clientId: string, jti: string, expiresAt: Date): Promise<boolean> {
  await db.query('DELETE FROM smart_used_assertions WHERE expires_at < now()');
  const result = await db.query(
    'INSERT INTO smart_used_assertions (client_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [clientId, jti, expiresAt],
  );
  return result.rowCount === 1;
}
