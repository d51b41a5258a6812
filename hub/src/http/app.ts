import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { FhirError, issue } from '../fhir/operation-outcome.js';
import { auditTrail } from '../audit/audit-trail.js';
import type { TokenSigner } from '../auth/access-token.js';
import { requireAccessToken } from '../auth/require-access-token.js';
import { smartConfiguration, smartTokenRouter } from '../auth/token-endpoint.js';
import type { HubMetrics } from '../metrics.js';
import type { Database } from '../store/database.js';
import { fhirErrorHandler, fhirJsonBody } from './fhir-json.js';
import { fhirRouter } from './fhir-router.js';
import { binaryRoutes } from '../documents/binary-routes.js';

export interface AppOptions {
  /** Set when SMART Backend Services authorization is on. */
  auth?: { signer: TokenSigner; tokenLifetimeSeconds: number } | undefined;
  db: Database;
  logger: Logger;
  publicBaseUrl: string;
  maxBodySize: string;
  version: string;
  metrics: HubMetrics;
}

/** The HTTP face of the hub: the FHIR API under /fhir, a health check and metrics. */
export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.use((req, res, next) => {
    res.on('finish', () => options.metrics.httpRequests.inc({ method: req.method, status: String(res.statusCode) }));
    next();
  });

  // Prometheus scrape endpoint; like /healthz, for the operator's network, not for integrators.
  app.get('/metrics', async (_req, res) => {
    res.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });

  app.get('/healthz', async (_req, res) => {
    await options.db.query('SELECT 1');
    res.json({ status: 'ok' });
  });

  const tokenUrl = `${options.publicBaseUrl}/auth/token`;
  if (options.auth) {
    app.use('/auth', smartTokenRouter({ db: options.db, signer: options.auth.signer, tokenUrl, tokenLifetimeSeconds: options.auth.tokenLifetimeSeconds }));
    // SMART discovery lives at [FHIR base]/.well-known/smart-configuration.
    app.get('/fhir/.well-known/smart-configuration', (_req, res) => res.json(smartConfiguration(tokenUrl)));
  }
  const authorize = options.auth ? [requireAccessToken(options.auth.signer)] : [];
  app.use(
    '/fhir',
    auditTrail(options.db, options.logger),
    // Raw document content streams in and out before the JSON body parser (which would refuse it).
    binaryRoutes({ db: options.db, publicBaseUrl: options.publicBaseUrl, authorize }),
    ...fhirJsonBody(options.maxBodySize),
    ...authorize,
    fhirRouter(options),
  );
  app.use((req, _res, next) => next(new FhirError(404, [issue('not-found', `no such endpoint: ${req.method} ${req.path}`)])));
  app.use(fhirErrorHandler(options.logger));
  return app;
}
