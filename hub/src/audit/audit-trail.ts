import type { RequestHandler } from 'express';
import type { AuditEvent } from 'fhir/r4.js';
import type { Logger } from 'pino';
import type { Database } from '../store/database.js';
import { createResource } from '../store/resource-store.js';
import { AnonymousRequestTally } from './anonymous-requests.js';
import { auditedInteraction } from './audit-interaction.js';

/** Who made a request, as far as the hub knows; the auth layer fills it in. */
export interface AuditActor {
  /** The client (SMART client_id) or "anonymous". */
  client: string;
  organization?: string | undefined;
}

/** Where the auth layer leaves the caller for the audit trail (res.locals key). */
export const AUDIT_ACTOR = 'carehubAuditActor';

/** AuditEvent.outcome: 0 success, 4 minor failure (the client's), 8 serious failure (ours). */
function outcomeOf(status: number): AuditEvent['outcome'] {
  if (status < 400) return '0';
  return status < 500 ? '4' : '8';
}

/** How often windows of anonymous requests that have come of age are written. */
const ANONYMOUS_FLUSH_INTERVAL_MS = 10_000;

/** Statuses of requests refused for want of a valid token: 401, and 429 once rate-limited. */
const ANONYMOUS_REFUSALS = new Set([401, 429]);

/** Requests anyone may send: refused for want of a token, or the public CapabilityStatement. */
const isAnonymousTraffic = (actor: AuditActor | undefined, status: number, interaction: string) =>
  !actor && (ANONYMOUS_REFUSALS.has(status) || interaction === 'capabilities');

/**
 * Records an AuditEvent (FHIR R4 auditevent.html) for every FHIR API request, read or write,
 * successful or not: who (client, organisation, address), what (interaction, resource or query),
 * when, and the outcome. AuditEvents are stored and searched like any resource.
 *
 * Requests without a valid access token (refused, or for the CapabilityStatement) are the
 * exception: anyone can send them, so they are counted per address and written as one
 * AuditEvent per address per minute (anonymous-requests.ts), not one row each.
 *
 * They are written once the response has gone out, so auditing never delays an answer; a
 * failure to record one is logged as an error for the operator.
 */
export function auditTrail(db: Database, logger: Logger): RequestHandler {
  const store = (event: AuditEvent, interaction: string) =>
    createResource(db, event).catch((error: unknown) => logger.error({ err: error, interaction }, 'could not record an AuditEvent'));
  const anonymousRequests = new AnonymousRequestTally();
  // Addresses that went quiet are written within a window and a flush interval; unref'd, so
  // it never keeps a process alive. (Requests of the last minute before a stop are not written.)
  setInterval(() => {
    for (const event of anonymousRequests.close(new Date())) void store(event, 'anonymous');
  }, ANONYMOUS_FLUSH_INTERVAL_MS).unref();
  return (req, res, next) => {
    const started = new Date();
    // Read now: by the time the response finishes, an error handler outside the /fhir router
    // may have put the mount path back into req.path.
    const what = auditedInteraction(req.method, req.path);
    res.on('finish', () => {
      if (!what) return;
      const knownActor = res.locals[AUDIT_ACTOR] as AuditActor | undefined;
      if (isAnonymousTraffic(knownActor, res.statusCode, what.interaction)) {
        const closed = anonymousRequests.record(req.socket.remoteAddress ?? 'unknown', res.statusCode, started);
        if (closed) void store(closed, 'anonymous');
        return;
      }
      const actor = knownActor ?? { client: 'anonymous' };
      const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : undefined;
      const location = res.getHeader('location');
      const entity = what.entity ?? (typeof location === 'string' ? location.match(/([A-Za-z]+\/[A-Za-z0-9\-.]+)\/_history/)?.[1] : undefined);
      const event: AuditEvent = {
        resourceType: 'AuditEvent',
        type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
        subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: what.interaction }],
        action: what.action,
        recorded: started.toISOString(),
        outcome: outcomeOf(res.statusCode),
        outcomeDesc: `HTTP ${res.statusCode}`,
        agent: [
          {
            requestor: true,
            who: {
              identifier: { system: 'urn:carehub:client', value: actor.client },
              ...(actor.organization ? { display: actor.organization } : {}),
            },
            network: { address: req.socket.remoteAddress ?? 'unknown', type: '2' },
          },
        ],
        source: { observer: { display: 'CareHub FHIR API' } },
        entity: [
          ...(entity ? [{ what: { reference: entity } }] : []),
          ...(query ? [{ type: { code: '2', system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type' }, query: Buffer.from(query).toString('base64') }] : []),
          ...(what.resourceType && !entity ? [{ what: { display: what.resourceType } }] : []),
        ],
      };
      if (event.entity!.length === 0) delete event.entity;
      void store(event, what.interaction);
    });
    next();
  };
}
