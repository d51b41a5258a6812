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

/** The client behind a token must still be registered and active (disabled or deleted: refused). */
export interface ClientStates {
  isActive(clientId: string): Promise<boolean>;
}

/** Requests that need no token: the CapabilityStatement and SMART discovery tell clients how to get one. */
function isPublic(path: string, interaction: string | undefined): boolean {
  return interaction === 'capabilities' || path.startsWith('/.well-known/');
}

/** Transactions, batches and messages are checked entry by entry once their body is parsed. */
const isCheckedPerEntry = (path: string, interaction: string | undefined) => interaction === 'transaction' || path === '/$process-message';

/**
 * Every FHIR API call carries a bearer token from the token endpoint (SMART Backend Services),
 * except the CapabilityStatement, which tells clients how to get one. No or a bad token, or one
 * of a client that has since been disabled or deleted, is 401 with WWW-Authenticate; scopes that
 * do not cover the interaction are 403. Mounted before any body is read, so an anonymous caller
 * costs no parsing; the entries of a transaction, batch or message are checked after it, by
 * requireEntryScopes.
 */
export function requireAccessToken(signer: TokenSigner, clients: ClientStates): RequestHandler {
  return (req, res, next) => {
    const what = auditedInteraction(req.method, req.path);
    if (isPublic(req.path, what?.interaction)) {
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
      async (caller) => {
        try {
          if (!(await clients.isActive(caller.clientId))) {
            next(unauthorized('the access token is invalid or expired'));
            return;
          }
          res.locals[CALLER] = caller;
          res.locals[AUDIT_ACTOR] = { client: caller.clientId, organization: caller.organization } satisfies AuditActor;
          if (!isCheckedPerEntry(req.path, what?.interaction) && what?.resourceType) {
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

/**
 * After the body parser: for a transaction or batch every entry must be allowed, and a message
 * needs the create scope for each resource type it carries. Other requests were checked whole
 * by requireAccessToken.
 */
export function requireEntryScopes(): RequestHandler {
  return (req, res, next) => {
    const caller = callerOf(res);
    const what = auditedInteraction(req.method, req.path);
    if (isPublic(req.path, what?.interaction)) {
      next();
      return;
    }
    if (!caller) {
      next(unauthorized('an access token is required (SMART Backend Services; see /fhir/.well-known/smart-configuration)'));
      return;
    }
    try {
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
      }
      next();
    } catch (error) {
      next(error);
    }
  };
}
