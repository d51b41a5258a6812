import type { RequestHandler, Response } from 'express';
import type { Bundle } from 'fhir/r4.js';
import { auditedInteraction } from '../audit/audit-interaction.js';
import { AUDIT_ACTOR, type AuditActor } from '../audit/audit-trail.js';
import { FhirError, issue } from '../fhir/operation-outcome.js';
import type { Caller, TokenSigner } from './access-token.js';
import { scopeAllows, type ScopedInteraction } from './scopes.js';

const CALLER = 'carehubCaller';

/** The verified caller of this request (after requireAccessToken). */
export function callerOf(res: Response): Caller | undefined {
  return res.locals[CALLER] as Caller | undefined;
}

const unauthorized = (message: string) => new FhirError(401, [issue('login', message)]);
const forbidden = (message: string) => new FhirError(403, [issue('forbidden', message)]);

/** Which scoped interaction a FHIR interaction needs (SMART v2 letters c r u d s). */
const NEEDS: Record<string, ScopedInteraction> = {
  read: 'read',
  vread: 'read',
  'history-instance': 'read',
  'history-type': 'read',
  'search-type': 'search',
  create: 'create',
  update: 'update',
  patch: 'update',
  delete: 'delete',
  operation: 'read',
};

const BUNDLE_METHOD_NEEDS: Record<string, ScopedInteraction> = { GET: 'read', POST: 'create', PUT: 'update', PATCH: 'update', DELETE: 'delete' };

function assertAllowed(caller: Caller, resourceType: string, interaction: ScopedInteraction): void {
  if (!scopeAllows(caller.scopes, resourceType, interaction)) {
    throw forbidden(`the granted scopes do not allow ${interaction} on ${resourceType}`);
  }
  // The audit trail is for auditors: it shows who read what about whom.
  if (resourceType === 'AuditEvent' && !caller.roles.includes('auditor')) throw forbidden('AuditEvents are for the auditor role');
}

/**
 * Every FHIR API call carries a bearer token from the token endpoint (SMART Backend Services),
 * except the CapabilityStatement, which tells clients how to get one. No or a bad token is
 * 401 with WWW-Authenticate; scopes that do not cover the interaction are 403. For a transaction
 * or batch, every entry must be allowed.
 */
export function requireAccessToken(signer: TokenSigner): RequestHandler {
  return (req, res, next) => {
    const what = auditedInteraction(req.method, req.path);
    if (what?.interaction === 'capabilities' || req.path.startsWith('/.well-known/')) {
      next();
      return;
    }
    const header = req.get('authorization');
    const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    res.setHeader('WWW-Authenticate', 'Bearer');
    if (!token) {
      next(unauthorized('an access token is required (SMART Backend Services; see /fhir/.well-known/smart-configuration)'));
      return;
    }
    signer.verify(token).then(
      (caller) => {
        try {
          res.locals[CALLER] = caller;
          res.locals[AUDIT_ACTOR] = { client: caller.clientId, organization: caller.organization } satisfies AuditActor;
          if (what?.interaction === 'transaction') {
            for (const entry of (req.body as Bundle | undefined)?.entry ?? []) {
              const type = entry.request?.url?.split(/[/?]/)[0] ?? '';
              assertAllowed(caller, type, BUNDLE_METHOD_NEEDS[entry.request?.method ?? ''] ?? 'read');
            }
          } else if (req.path === '/$process-message') {
            // A message creates what it carries: each resource type needs the create scope.
            for (const entry of ((req.body as Bundle | undefined)?.entry ?? []).slice(1)) {
              assertAllowed(caller, entry.resource?.resourceType ?? '', 'create');
            }
          } else if (what?.resourceType) {
            assertAllowed(caller, what.resourceType, NEEDS[what.interaction] ?? 'read');
          }
          next();
        } catch (error) {
          next(error);
        }
      },
      () => next(unauthorized('the access token is invalid or expired')),
    );
  };
}
