import { isIPv4, isIPv6 } from 'node:net';

/**
 * Which rest-hook endpoints the hub calls. A Subscription is written by an integrator, so its
 * endpoint must not turn the hub into a probe of the operator's own network (Redis on
 * 127.0.0.1:6379, PostgreSQL on :5432, a cloud metadata service on 169.254.169.254): it must be
 * https on a public address, unless the operator lists its host in `subscriptions.allowedHosts`.
 * Checked when a Subscription is written, and again at each delivery on the addresses its host
 * name resolves to (notification-transport.ts connects to exactly those).
 */

/** What kind of address an IP address is, for the rule that refuses all but public ones. */
export type AddressKind = 'public' | 'unspecified' | 'loopback' | 'private' | 'link-local' | 'shared' | 'reserved';

const DESCRIPTION: Record<Exclude<AddressKind, 'public'>, string> = {
  unspecified: 'an unspecified address',
  loopback: 'a loopback address',
  private: 'a private network address',
  'link-local': 'a link-local address',
  shared: 'a carrier-grade NAT address',
  reserved: 'a reserved or special-purpose address',
};

/** IPv4 special-purpose ranges (RFC 6890 and its updates); everything else is public. */
const IPV4_RANGES: ReadonlyArray<readonly [network: string, prefix: number, kind: AddressKind]> = [
  ['0.0.0.0', 8, 'unspecified'], // "this network"; 0.0.0.0 reaches the local host
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'], // cloud metadata services live here
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'], // documentation
  ['192.88.99.0', 24, 'reserved'], // 6to4 relays
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'], // benchmarking
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'reserved'], // multicast
  ['240.0.0.0', 4, 'reserved'], // reserved, and the broadcast address
];

/**
 * IPv6 special-purpose ranges (RFC 6890, RFC 4193, RFC 4291). "embedded" ranges carry an IPv4
 * address that decides (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16). Only
 * global unicast (2000::/3) outside these ranges is public.
 */
const IPV6_RANGES: ReadonlyArray<readonly [network: string, prefix: number, kind: AddressKind | 'embedded']> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::ffff:0:0', 96, 'embedded'],
  ['::', 96, 'reserved'], // IPv4-compatible (deprecated)
  ['64:ff9b::', 96, 'embedded'],
  ['64:ff9b:1::', 48, 'reserved'], // local NAT64
  ['100::', 64, 'reserved'], // discard
  ['2001::', 23, 'reserved'], // IETF protocol assignments, Teredo
  ['2001:db8::', 32, 'reserved'], // documentation
  ['2002::', 16, 'embedded'],
  ['fc00::', 7, 'private'], // unique local
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'], // site-local (deprecated)
  ['ff00::', 8, 'reserved'], // multicast
];

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

function ipv6ToBigInt(address: string): bigint {
  let text = address;
  // A trailing dotted quad (::ffff:127.0.0.1) is the last two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (dotted) {
    const v4 = ipv4ToNumber(dotted);
    text = `${text.slice(0, -dotted.length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [left = '', right] = text.split('::') as [string, string?];
  const leftGroups = left ? left.split(':') : [];
  const rightGroups = right ? right.split(':') : [];
  const groups = right === undefined ? leftGroups : [...leftGroups, ...Array<string>(8 - leftGroups.length - rightGroups.length).fill('0'), ...rightGroups];
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

const IPV6_RANGE_VALUES = IPV6_RANGES.map(([network, prefix, kind]) => ({ network: ipv6ToBigInt(network), prefix, kind }));
const IPV4_RANGE_VALUES = IPV4_RANGES.map(([network, prefix, kind]) => ({ network: ipv4ToNumber(network), prefix, kind }));

function classifyIPv4(value: number): AddressKind {
  for (const { network, prefix, kind } of IPV4_RANGE_VALUES) {
    const size = 2 ** (32 - prefix);
    if (Math.floor(value / size) === Math.floor(network / size)) return kind;
  }
  return 'public';
}

function classifyIPv6(value: bigint): AddressKind {
  for (const { network, prefix, kind } of IPV6_RANGE_VALUES) {
    const shift = BigInt(128 - prefix);
    if (value >> shift !== network >> shift) continue;
    if (kind !== 'embedded') return kind;
    // 6to4 carries its IPv4 address in bits 16–47; the others in the last 32 bits.
    const v4 = prefix === 16 ? (value >> 80n) & 0xffffffffn : value & 0xffffffffn;
    return classifyIPv4(Number(v4));
  }
  return value >> 125n === 1n ? 'public' : 'reserved'; // 2000::/3 is global unicast
}

/**
 * What kind of address `address` is (IPv4, or IPv6 with or without brackets and zone), or
 * undefined when it is not an IP address (a host name).
 */
export function classifyAddress(address: string): AddressKind | undefined {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (isIPv4(bare)) return classifyIPv4(ipv4ToNumber(bare));
  if (isIPv6(bare)) return classifyIPv6(ipv6ToBigInt(bare.toLowerCase()));
  return undefined;
}

/** One `subscriptions.allowedHosts` entry: a host as URLs spell it, and a port unless any. */
export interface AllowedHost {
  host: string;
  port: string | undefined;
}

/** Parses `subscriptions.allowedHosts` ("host" or "host:port", IPv6 in brackets). */
export function parseAllowedHosts(entries: readonly string[]): AllowedHost[] {
  return entries.map((entry) => {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(entry);
    if (!match) throw new Error(`subscriptions.allowedHosts: ${entry} is not a host or host:port`);
    // The URL parser's spelling (lower case, canonical IPv4 and IPv6), as endpoints are compared in it.
    return { host: new URL(`http://${match[1]!}`).hostname, port: match[2] };
  });
}

const defaultPort = (url: URL) => url.port || (url.protocol === 'https:' ? '443' : '80');

/** Whether the operator listed this endpoint's host (and port) in `subscriptions.allowedHosts`. */
export function isListedEndpoint(url: URL, allowed: readonly AllowedHost[]): boolean {
  return allowed.some((entry) => entry.host === url.hostname && (entry.port === undefined || entry.port === defaultPort(url)));
}

/** Why the address kind is refused, worded for the integrator who wrote the Subscription. */
export function describeAddressKind(kind: Exclude<AddressKind, 'public'>): string {
  return DESCRIPTION[kind];
}

const UNLESS_LISTED = 'unless the hub operator lists its host in subscriptions.allowedHosts';

/**
 * Why the hub will not call this endpoint, or undefined if it may: the rule a Subscription
 * write is refused with (422). Host names are checked here only as far as the name goes
 * (`localhost`, a single label); their addresses are checked at each delivery.
 */
export function endpointRefusal(url: URL, allowed: readonly AllowedHost[]): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'channel.endpoint must be an http(s) URL';
  if (isListedEndpoint(url, allowed)) return undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const kind = classifyAddress(host);
  if (kind && kind !== 'public') return `channel.endpoint must not be ${DESCRIPTION[kind]} (${host}) ${UNLESS_LISTED}`;
  if (!kind && (host === 'localhost' || host.endsWith('.localhost'))) return `channel.endpoint must not be a loopback address (${host}) ${UNLESS_LISTED}`;
  if (!kind && !host.replace(/\.$/, '').includes('.')) return `channel.endpoint must name a public host with its domain, not ${host}, ${UNLESS_LISTED}`;
  if (url.protocol !== 'https:') return `channel.endpoint must be https ${UNLESS_LISTED}`;
  return undefined;
}

/**
 * At delivery, after DNS: the first address of an unlisted endpoint that is not public, or
 * undefined when all are (a name with one private address among public ones is not called).
 */
export function firstNonPublicAddress(url: URL, addresses: readonly string[], allowed: readonly AllowedHost[]): { address: string; kind: AddressKind } | undefined {
  if (isListedEndpoint(url, allowed)) return undefined;
  for (const address of addresses) {
    const kind = classifyAddress(address) ?? 'reserved';
    if (kind !== 'public') return { address, kind };
  }
  return undefined;
}
