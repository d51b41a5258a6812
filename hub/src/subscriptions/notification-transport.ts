import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { endpointRefusal, firstNonPublicAddress, type AllowedHost } from './subscription-endpoint.js';

/** One rest-hook call, as deliver-notification.ts builds it. */
export interface RestHookRequest {
  url: string;
  method: 'POST' | 'PUT';
  headers: Record<string, string>;
  body?: string;
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** DNS for endpoint host names; tests pass their own. */
export type ResolveHost = (hostname: string) => Promise<ResolvedAddress[]>;

export const resolveWithSystemDns: ResolveHost = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * A notification that did not get through. `subscriberReason` is all the subscriber is told
 * (Subscription.error): the HTTP status its endpoint answered, or that it was unreachable. The
 * message (for the hub's log only) says why: refused address, DNS, connection, TLS, timeout.
 * Telling those apart to the subscriber would let a Subscription map the operator's network.
 */
export class NotificationFailure extends Error {
  constructor(
    readonly subscriberReason: string,
    detail: string,
  ) {
    super(detail);
  }
}

const UNREACHABLE = 'delivery failed: endpoint unreachable';

/** Framing is the transport's: a subscriber's channel.header may not set these. */
const TRANSPORT_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer']);

/** A lookup that answers only the addresses already checked, so DNS cannot change between check and connect. */
function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, addresses.map(({ address, family }) => ({ address, family })));
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };
}

export interface TransportOptions {
  timeoutMs: number;
  allowedHosts: readonly AllowedHost[];
  resolveHost: ResolveHost;
}

/**
 * Sends one rest-hook request: the endpoint's rule checked again (config may have changed since
 * the Subscription was written), its host name resolved, every address checked, and the
 * connection made to those addresses only (no DNS rebinding). Redirects are not followed. The
 * whole call, DNS included, is bounded by timeoutMs. Resolves on a 2xx answer; otherwise throws
 * a NotificationFailure.
 */
export async function sendRestHook(hook: RestHookRequest, { timeoutMs, allowedHosts, resolveHost }: TransportOptions): Promise<void> {
  const url = new URL(hook.url);
  const refusal = endpointRefusal(url, allowedHosts);
  if (refusal) throw new NotificationFailure(UNREACHABLE, `endpoint refused: ${refusal}`);
  const signal = AbortSignal.timeout(timeoutMs);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');

  let addresses: ResolvedAddress[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await Promise.race([
        resolveHost(host),
        new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('DNS timed out')), { once: true })),
      ]);
    } catch (error) {
      throw new NotificationFailure(UNREACHABLE, `cannot resolve ${host}: ${(error as Error).message}`);
    }
    if (addresses.length === 0) throw new NotificationFailure(UNREACHABLE, `${host} has no addresses`);
  }
  const refused = firstNonPublicAddress(
    url,
    addresses.map((a) => a.address),
    allowedHosts,
  );
  if (refused) throw new NotificationFailure(UNREACHABLE, `${host} resolves to ${refused.kind} address ${refused.address}; not contacted`);

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(hook.headers)) if (!TRANSPORT_HEADERS.has(name.toLowerCase())) headers[name] = value;
  const body = hook.body === undefined ? undefined : Buffer.from(hook.body);
  headers['content-length'] = String(body?.length ?? 0);

  const status = await new Promise<number>((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let request;
    try {
      request = send(url, { method: hook.method, headers, agent: false, lookup: pinnedLookup(addresses), signal });
    } catch (error) {
      // A header value the HTTP layer refuses (say, a newline in channel.header).
      reject(error as Error);
      return;
    }
    request.once('response', (response: IncomingMessage) => {
      resolve(response.statusCode ?? 0);
      // Only the status counts; an endpoint that keeps talking is not listened to.
      response.destroy();
    });
    request.once('error', reject);
    request.end(body);
  }).catch((error: unknown) => {
    throw new NotificationFailure(UNREACHABLE, `${hook.method} ${url.origin}: ${(error as Error).message}`);
  });
  if (status < 200 || status > 299) throw new NotificationFailure(`delivery failed (HTTP ${status})`, `the endpoint answered HTTP ${status}`);
}
