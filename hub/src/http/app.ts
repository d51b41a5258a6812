import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { FhirError, issue } from '../fhir/operation-outcome.js';
import { auditTrail } from '../audit/audit-trail.js';
import type { TokenSigner } from '../auth/access-token.js';
import { ClientStateCache } from '../auth/client-state-cache.js';
import { requireAccessToken, requireEntryScopes } from '../auth/require-access-token.js';
import { isSmartClientActive } from '../auth/smart-clients.js';
import { smartConfiguration, smartTokenRouter } from '../auth/token-endpoint.js';
import type { HubMetrics } from '../metrics.js';
import type { Database } from '../store/database.js';
import type { WriteContext } from '../workflow/write-context.js';
import { limitAnonymousRequests } from './anonymous-rate-limit.js';
import { fhirErrorHandler, fhirJsonBody } from './fhir-json.js';
import { fhirRouter } from './fhir-router.js';
import { guestPage, type GuestPageOptions } from './guest-page.js';
import { binaryRoutes } from '../documents/binary-routes.js';
import type { TerminologyServer } from '../fhir/validation/terminology-server.js';

export interface AppOptions {
  /** Set when SMART Backend Services authorization is on. */
  auth?: { signer: TokenSigner; tokenLifetimeSeconds: number } | undefined;
  db: Database;
  /** The validator, document store and Subscription endpoint policy every write uses (startHub). */
  writes: WriteContext;
  logger: Logger;
  publicBaseUrl: string;
  maxBodySize: string;
  version: string;
  metrics: HubMetrics;
  /** `validation.terminologyServer`, when the operator named one. */
  terminologyServer?: TerminologyServer | undefined;
  /** The page behind case guests' one-time links (/guest/<secret>), when this hub has a bot. */
  guests?: GuestPageOptions | undefined;
}

/**
 * The integrators' HTTP face of the hub: the FHIR API under /fhir, the token endpoint, and the
 * page case guests' links open. The operator's endpoints (metrics, health) are on a listener of
 * their own (operator-app.ts).
 */
export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.use((req, res, next) => {
    res.on('finish', () => options.metrics.httpRequests.inc({ method: req.method, status: String(res.statusCode) }));
    next();
  });

  const tokenUrl = `${options.publicBaseUrl}/auth/token`;
  if (options.auth) {
    app.use('/auth', smartTokenRouter({ db: options.db, signer: options.auth.signer, tokenUrl, tokenLifetimeSeconds: options.auth.tokenLifetimeSeconds }));
    // SMART discovery lives at [FHIR base]/.well-known/smart-configuration.
    app.get('/fhir/.well-known/smart-configuration', (_req, res) => res.json(smartConfiguration(tokenUrl)));
  }
  // The token (and the client behind it) is checked before any body is read; the entries of a
  // transaction, batch or message once the body is parsed.
  const clientStates = new ClientStateCache((clientId) => isSmartClientActive(options.db, clientId));
  // Refusals for want of a token are rate-limited per address (429 beyond the limit).
  const authorize = options.auth ? [limitAnonymousRequests(requireAccessToken(options.auth.signer, clientStates))] : [];
  const authorizeEntries = options.auth ? [requireEntryScopes()] : [];
  app.use(
    '/fhir',
    auditTrail(options.db, options.logger),
    ...authorize,
    // Raw document content streams in and out before the JSON body parser (which would refuse it).
    binaryRoutes({ db: options.db, writes: options.writes, publicBaseUrl: options.publicBaseUrl, authorize: [] }),
    ...fhirJsonBody(options.maxBodySize),
    ...authorizeEntries,
    fhirRouter(options),
  );
  if (options.guests) app.use('/guest', guestPage(options.guests));
  app.use((req, _res, next) => next(new FhirError(404, [issue('not-found', `no such endpoint: ${req.method} ${req.path}`)])));
  app.use(fhirErrorHandler(options.logger));
  return app;
}
