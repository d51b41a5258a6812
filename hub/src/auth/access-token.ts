import { readFile } from 'node:fs/promises';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';

/** Who is calling, from a verified access token. */
export interface Caller {
  clientId: string;
  /** "Organization/<id>" the client belongs to. */
  organization: string;
  scopes: string[];
  roles: string[];
}

/** The hub's own key for signing access tokens (ES256), shared by every hub node of a deployment. */
export interface TokenSigner {
  sign(caller: Caller, lifetimeSeconds: number): Promise<string>;
  verify(token: string): Promise<Caller>;
}

const ALG = 'ES256';

export async function tokenSignerFromJwk(privateJwk: JWK, issuer: string): Promise<TokenSigner> {
  const privateKey = await importJWK(privateJwk, ALG);
  const { d: _private, ...publicJwk } = privateJwk;
  const publicKey = await importJWK(publicJwk, ALG);
  return {
    sign: (caller, lifetimeSeconds) =>
      new SignJWT({ client_id: caller.clientId, organization: caller.organization, scope: caller.scopes.join(' '), roles: caller.roles })
        .setProtectedHeader({ alg: ALG })
        .setIssuer(issuer)
        .setSubject(caller.clientId)
        .setIssuedAt()
        .setExpirationTime(`${lifetimeSeconds}s`)
        .setJti(randomUUID())
        .sign(privateKey),
    async verify(token) {
      const { payload } = await jwtVerify(token, publicKey, { issuer, algorithms: [ALG] });
      return {
        clientId: String(payload['client_id']),
        organization: String(payload['organization']),
        scopes: String(payload['scope'] ?? '').split(' ').filter(Boolean),
        roles: Array.isArray(payload['roles']) ? payload['roles'].map(String) : [],
      };
    },
  };
}

export async function tokenSignerFromFile(path: string, issuer: string): Promise<TokenSigner> {
  return tokenSignerFromJwk(JSON.parse(await readFile(path, 'utf8')) as JWK, issuer);
}

/** A new private signing key as JWK, for `npm run setup` and tests. */
export async function generateSigningJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  return exportJWK(privateKey);
}
