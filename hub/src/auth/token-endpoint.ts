import express, { Router, type Response } from 'express';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { Queryable } from '../store/database.js';
import type { TokenSigner } from './access-token.js';
import { grantScopes } from './scopes.js';
import { findSmartClient, useAssertionOnce } from './smart-clients.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** SMART Backend Services: RS384 and ES384 must be supported; nothing weaker is accepted. */
const ALGORITHMS = ['RS384', 'ES384'];
/** An assertion may live at most five minutes (SMART backend-services: exp ≤ 5 min ahead). */
const MAX_ASSERTION_SECONDS = 300;

class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'invalid_scope' | 'unsupported_grant_type',
    message: string,
  ) {
    super(message);
  }
}

/** RFC 6749 §5.2 error answer. */
function sendOAuthError(res: Response, error: OAuthError): void {
  res.status(error.status).setHeader('cache-control', 'no-store').json({ error: error.code, error_description: error.message });
}

export interface SmartAuthOptions {
  db: Queryable;
  signer: TokenSigner;
  /** The absolute token endpoint URL: client assertions must name it as their audience. */
  tokenUrl: string;
  tokenLifetimeSeconds: number;
}

/** The SMART configuration document (hl7.org/fhir/smart-app-launch/conformance.html). */
export function smartConfiguration(tokenUrl: string): Record<string, unknown> {
  return {
    token_endpoint: tokenUrl,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ALGORITHMS,
    grant_types_supported: ['client_credentials'],
    scopes_supported: ['system/*.read', 'system/*.write', 'system/*.rs', 'system/*.cruds'],
    capabilities: ['client-confidential-asymmetric'],
  };
}

/**
 * The token endpoint of SMART Backend Services: `client_credentials` with a `private_key_jwt`
 * client assertion signed with a key of the client's registered JWKS. Answers a short-lived
 * bearer token carrying the granted scopes, the client's organisation and its roles.
 */
export function smartTokenRouter({ db, signer, tokenUrl, tokenLifetimeSeconds }: SmartAuthOptions): Router {
  const router = Router();
  router.post('/token', express.urlencoded({ extended: false, limit: '64kb' }), async (req, res) => {
    try {
      const form = (req.body ?? {}) as Record<string, string | undefined>;
      if (form['grant_type'] !== 'client_credentials') throw new OAuthError(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
      if (form['client_assertion_type'] !== ASSERTION_TYPE || !form['client_assertion']) {
        throw new OAuthError(400, 'invalid_request', `client_assertion_type must be ${ASSERTION_TYPE}, with a client_assertion`);
      }
      const assertion = form['client_assertion'];
      let header;
      let unverified: JWTPayload;
      try {
        header = decodeProtectedHeader(assertion);
        unverified = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString()) as JWTPayload;
      } catch {
        throw new OAuthError(400, 'invalid_request', 'client_assertion is not a JWT');
      }
      if (!header.alg || !ALGORITHMS.includes(header.alg)) throw new OAuthError(401, 'invalid_client', `client assertions must be signed with ${ALGORITHMS.join(' or ')}`);
      const client = typeof unverified.iss === 'string' ? await findSmartClient(db, unverified.iss) : undefined;
      if (!client?.active) throw new OAuthError(401, 'invalid_client', 'unknown or inactive client');

      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(assertion, createLocalJWKSet(client.jwks), {
          algorithms: ALGORITHMS,
          issuer: client.clientId,
          subject: client.clientId,
          audience: tokenUrl,
          requiredClaims: ['exp', 'jti'],
        }));
      } catch (error) {
        throw new OAuthError(401, 'invalid_client', `client assertion rejected: ${(error as Error).message}`);
      }
      if (payload.exp! - Math.floor(Date.now() / 1000) > MAX_ASSERTION_SECONDS) {
        throw new OAuthError(401, 'invalid_client', `client assertions may expire at most ${MAX_ASSERTION_SECONDS} s ahead`);
      }
      if (!(await useAssertionOnce(db, client.clientId, String(payload.jti), new Date(payload.exp! * 1000)))) {
        throw new OAuthError(401, 'invalid_client', 'client assertion jti was already used');
      }
      const requested = String(form['scope'] ?? '').split(' ').filter(Boolean);
      const scopes = grantScopes(requested, client.scopes);
      if (scopes.length === 0) throw new OAuthError(400, 'invalid_scope', 'none of the requested scopes is granted to this client');
      const accessToken = await signer.sign({ clientId: client.clientId, organization: client.organization, scopes, roles: client.roles }, tokenLifetimeSeconds);
      res.setHeader('cache-control', 'no-store');
      res.json({ access_token: accessToken, token_type: 'bearer', expires_in: tokenLifetimeSeconds, scope: scopes.join(' ') });
    } catch (error) {
      if (error instanceof OAuthError) sendOAuthError(res, error);
      else throw error;
    }
  });
  return router;
}
