import express, { type Express } from 'express';
import type { HubMetrics } from '../metrics.js';
import type { ReadinessProbe } from './readiness-probe.js';

export interface OperatorAppOptions {
  metrics: HubMetrics;
  readiness: ReadinessProbe;
}

/**
 * The operator's endpoints, on a listener of their own (`http.operator`), never on the
 * integrators' API port: Prometheus metrics, liveness and readiness.
 * - `/healthz` (liveness): answers from process state alone, no database work, so a slow
 *   database never gets a healthy process restarted.
 * - `/readyz` (readiness): started, not stopping, and the database answered (probed at most
 *   once per few seconds).
 * - `/metrics`: Prometheus text format.
 */
export function createOperatorApp({ metrics, readiness }: OperatorAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.get('/healthz', (_req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
  });

  app.get('/readyz', async (_req, res) => {
    const state = await readiness.check();
    res.setHeader('cache-control', 'no-store');
    res.status(state.ready ? 200 : 503).json(state.ready ? { status: 'ready' } : { status: 'not ready', reason: state.reason });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.use((req, res) => {
    res.status(404).json({ error: `no such operator endpoint: ${req.method} ${req.path}` });
  });
  return app;
}
