import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

/** A backend client's key pair, as JWKs (the private one stays with the client). */
export async function generateClientKeys(kid: string): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  return {
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES384' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES384', use: 'sig' },
  };
}

/**
 * Gets an access token as a SMART backend client does: a client assertion signed with its
 * private key, exchanged at the token endpoint for the requested scopes.
 */
export async function fetchAccessToken(tokenUrl: string, clientId: string, privateJwk: JWK, scope: string): Promise<string> {
  const alg = privateJwk.alg ?? 'ES384';
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg, ...(privateJwk.kid ? { kid: privateJwk.kid } : {}) })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenUrl)
    .setExpirationTime('2m')
    .setJti(randomUUID())
    .sign(await importJWK(privateJwk, alg));
  const response = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope,
    }).toString(),
  });
  const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!response.ok || !body.access_token) throw new Error(`token endpoint: ${body.error ?? response.status} ${body.error_description ?? ''}`);
  return body.access_token;
}
