import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

/**
 * The hub's Prometheus metrics, served at /metrics. Labels carry outcomes and topics only,
 * never identifiers of people.
 */
export class HubMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'carehub_http_requests_total',
    help: 'FHIR API requests by method and status code',
    labelNames: ['method', 'status'] as const,
    registers: [this.registry],
  });
  readonly outboxPublished = new Counter({
    name: 'carehub_outbox_published_total',
    help: 'Outbox rows handed to the queue (republished rows count again)',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: 'carehub_deliveries_total',
    help: 'Delivery attempts (Matrix events, subscription notifications) by outcome (delivered, failed) and outbox topic',
    labelNames: ['outcome', 'topic'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'carehub_' });
  }
}
