import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { FhirError, issue } from '../fhir/operation-outcome.js';
import type { Database } from '../store/database.js';
import { fhirErrorHandler, fhirJsonBody } from './fhir-json.js';
import { fhirRouter } from './fhir-router.js';

export interface AppOptions {
  db: Database;
  logger: Logger;
  publicBaseUrl: string;
  maxBodySize: string;
  version: string;
}

/** The HTTP face of the hub: the FHIR API under /fhir and a health check. */
export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.get('/healthz', async (_req, res) => {
    await options.db.query('SELECT 1');
    res.json({ status: 'ok' });
  });

  app.use('/fhir', ...fhirJsonBody(options.maxBodySize), fhirRouter(options));
  app.use((req, _res, next) => next(new FhirError(404, [issue('not-found', `no such endpoint: ${req.method} ${req.path}`)])));
  app.use(fhirErrorHandler(options.logger));
  return app;
}
