import type { AuditEvent } from 'fhir/r4.js';

/** How long one address's anonymous requests are counted into one AuditEvent. */
export const ANONYMOUS_AUDIT_WINDOW_MS = 60_000;
/** Addresses counted at once; requests from any further address share one event. */
const MAX_ADDRESSES = 10_000;
const OTHER_ADDRESSES = '(other addresses)';

interface Window {
  address: string;
  start: Date;
  last: Date;
  /** Requests per HTTP status: 401, 429 once the address is rate-limited, 200 for the CapabilityStatement. */
  byStatus: Map<number, number>;
}

function countOf(window: Window): number {
  let count = 0;
  for (const n of window.byStatus.values()) count += n;
  return count;
}

/** One window as an AuditEvent (FHIR R4 auditevent.html): who (the address), when (period), how many. */
function auditEventOf(window: Window, recorded: Date): AuditEvent {
  const count = countOf(window);
  const statuses = [...window.byStatus].map(([status, n]) => `${n} answered ${status}`).join(', ');
  return {
    resourceType: 'AuditEvent',
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    action: 'E',
    period: { start: window.start.toISOString(), end: window.last.toISOString() },
    recorded: recorded.toISOString(),
    outcome: [...window.byStatus.keys()].some((status) => status >= 400) ? '4' : '0',
    outcomeDesc: `${count} request${count === 1 ? '' : 's'} without a valid access token (${statuses})`,
    agent: [
      {
        requestor: true,
        who: { identifier: { system: 'urn:carehub:client', value: 'anonymous' } },
        ...(window.address === OTHER_ADDRESSES ? { name: OTHER_ADDRESSES } : { network: { address: window.address, type: '2' as const } }),
      },
    ],
    source: { observer: { display: 'CareHub FHIR API' } },
    entity: [
      {
        what: { display: 'requests without a valid access token' },
        detail: [
          { type: 'count', valueString: String(count) },
          ...[...window.byStatus].map(([status, n]) => ({ type: `HTTP ${status}`, valueString: String(n) })),
        ],
      },
    ],
  };
}

/**
 * Counts the API's requests without a valid token (refused, or for the public
 * CapabilityStatement), per client address, so they are audited as one AuditEvent per address
 * per minute rather than one per request: anyone can send them, and a flood of them must not
 * become a flood of rows. Pure: the caller stores what it hands back.
 */
export class AnonymousRequestTally {
  private readonly windows = new Map<string, Window>();

  /** Counts one request; hands back the address's previous window once it is a minute old. */
  record(address: string, status: number, at: Date): AuditEvent | undefined {
    const key = this.windows.has(address) || this.windows.size < MAX_ADDRESSES ? address : OTHER_ADDRESSES;
    let closed: AuditEvent | undefined;
    let window = this.windows.get(key);
    if (window && at.getTime() - window.start.getTime() >= ANONYMOUS_AUDIT_WINDOW_MS) {
      closed = auditEventOf(window, at);
      window = undefined;
    }
    if (!window) {
      window = { address: key, start: at, last: at, byStatus: new Map() };
      this.windows.set(key, window);
    }
    window.last = at;
    window.byStatus.set(status, (window.byStatus.get(status) ?? 0) + 1);
    return closed;
  }

  /** Closes every window a minute old or older (all of them with `everything`), as AuditEvents. */
  close(at: Date, everything = false): AuditEvent[] {
    const events: AuditEvent[] = [];
    for (const [key, window] of this.windows) {
      if (everything || at.getTime() - window.start.getTime() >= ANONYMOUS_AUDIT_WINDOW_MS) {
        events.push(auditEventOf(window, at));
        this.windows.delete(key);
      }
    }
    return events;
  }
}
