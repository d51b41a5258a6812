import type { NextFunction, RequestHandler } from 'express';
import { isIPv6 } from 'node:net';
import { FhirError, issue } from '../fhir/operation-outcome.js';

/**
 * How many requests without a valid access token (answered 401) one client address may make:
 * a burst, then a steady rate. A client fetching its first token needs one or two; a client
 * polling with an expired token for ten seconds about a hundred.
 */
export interface AnonymousRateLimit {
  burst: number;
  refillPerSecond: number;
  /** Addresses remembered at once; the least recently refused are forgotten first. */
  maxAddresses: number;
}

export const ANONYMOUS_RATE_LIMIT: AnonymousRateLimit = { burst: 100, refillPerSecond: 2, maxAddresses: 10_000 };

/**
 * The key an address is limited under: IPv4 as it is (also when IPv4-mapped), IPv6 by its /64,
 * the smallest network a host is usually given, so rotating through it does not reset the limit.
 */
export function clientAddressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::', 2);
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = address.includes('::') ? 8 - headGroups.length - tailGroups.length : 0;
  const groups = [...headGroups, ...Array<string>(Math.max(missing, 0)).fill('0'), ...tailGroups];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** A token bucket per address (in memory: per hub process), refilled lazily as time passes. */
export class AnonymousRequestBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: AnonymousRateLimit = ANONYMOUS_RATE_LIMIT,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one request's token; 0 if there was one, else the whole seconds until there is. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.burst, updatedAt: now };
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.limit.refillPerSecond);
    bucket.updatedAt = now;
    // Re-inserted, so the Map's order is least recently refused first.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    this.forgetBeyondCapacity();
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.limit.refillPerSecond);
  }

  get size(): number {
    return this.buckets.size;
  }

  private forgetBeyondCapacity(): void {
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= this.limit.maxAddresses) return;
      this.buckets.delete(key);
    }
  }
}

export const tooManyAnonymousRequests = (retryAfterSeconds: number) =>
  new FhirError(429, [
    issue(
      'throttled',
      `anonymous request limit: at most ${ANONYMOUS_RATE_LIMIT.burst} requests without a valid access token from one address, then ${ANONYMOUS_RATE_LIMIT.refillPerSecond} a second; retry after ${retryAfterSeconds} s with a token`,
    ),
  ]);

/**
 * Wraps the access-token check: each request it refuses with 401 takes a token from its
 * address's bucket, and once the bucket is empty the refusal is 429 with Retry-After (RFC 6585
 * §4) instead. Requests with a valid token are never counted, so clients behind the same proxy
 * as a noisy anonymous one keep working.
 */
export function limitAnonymousRequests(authorize: RequestHandler, buckets = new AnonymousRequestBuckets()): RequestHandler {
  return (req, res, next) => {
    const afterAuthorize = (error?: unknown) => {
      if (!(error instanceof FhirError) || error.status !== 401) {
        next(error);
        return;
      }
      const retryAfter = buckets.take(clientAddressKey(req.socket.remoteAddress));
      if (retryAfter === 0) {
        next(error);
        return;
      }
      res.setHeader('Retry-After', String(retryAfter));
      next(tooManyAnonymousRequests(retryAfter));
    };
    return authorize(req, res, afterAuthorize as NextFunction);
  };
}
