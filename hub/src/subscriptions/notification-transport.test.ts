import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { NotificationFailure, sendRestHook, type ResolveHost } from './notification-transport.js';
import { parseAllowedHosts } from './subscription-endpoint.js';

// A stand-in for something on the operator's network (Redis, PostgreSQL, a metadata service):
// a server on loopback that records whether the hub reached it.
let server: Server;
let port: number;
const reached: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
let answer = 200;

beforeAll(async () => {
  server = createServer((request, response) => {
    reached.push({ method: request.method!, url: request.url!, headers: request.headers });
    request.resume();
    response.writeHead(answer).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  reached.length = 0;
  answer = 200;
});

/** DNS that answers what the test says, as an attacker's name server might. */
const dnsAnswering =
  (addresses: Record<string, string[]>): ResolveHost =>
  async (hostname) => {
    const found = addresses[hostname];
    if (!found) throw new Error(`getaddrinfo ENOTFOUND ${hostname}`);
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

async function failureOf(attempt: Promise<void>): Promise<NotificationFailure> {
  try {
    await attempt;
  } catch (error) {
    expect(error).toBeInstanceOf(NotificationFailure);
    return error as NotificationFailure;
  }
  throw new Error('the notification was sent');
}

describe('sending a rest-hook notification', () => {
  test('a public-looking name that resolves to loopback is never contacted, and the subscriber is told only "unreachable"', async () => {
    const failure = await failureOf(
      sendRestHook(
        { url: `https://rebind.example.org:${port}/hook`, method: 'POST', headers: {} },
        { timeoutMs: 2000, allowedHosts: [], resolveHost: dnsAnswering({ 'rebind.example.org': ['127.0.0.1'] }) },
      ),
    );
    expect(reached).toHaveLength(0);
    expect(failure.subscriberReason).toBe('delivery failed: endpoint unreachable');
    expect(failure.message).toMatch(/resolves to loopback address 127\.0\.0\.1/);
  });

  test('a listed host is connected to at the address that was checked (no second DNS look-up)', async () => {
    let lookUps = 0;
    const resolveHost: ResolveHost = async () => {
      lookUps++;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    await sendRestHook(
      { url: `http://hooks.internal:${port}/fhir/Task/1`, method: 'PUT', headers: { 'content-type': 'application/fhir+json', Host: 'evil.example', Authorization: 'Bearer s3cret' }, body: '{}' },
      { timeoutMs: 2000, allowedHosts: parseAllowedHosts(['hooks.internal']), resolveHost },
    );
    expect(lookUps).toBe(1);
    expect(reached).toEqual([expect.objectContaining({ method: 'PUT', url: '/fhir/Task/1' })]);
    // Framing headers are the hub's: channel.header cannot set Host.
    expect(reached[0]!.headers['host']).toBe(`hooks.internal:${port}`);
    expect(reached[0]!.headers['authorization']).toBe('Bearer s3cret');
  });

  test('an endpoint that answers an error status: the subscriber is told the status only', async () => {
    answer = 503;
    const failure = await failureOf(
      sendRestHook({ url: `http://127.0.0.1:${port}/hook`, method: 'POST', headers: {} }, { timeoutMs: 2000, allowedHosts: parseAllowedHosts(['127.0.0.1']), resolveHost: dnsAnswering({}) }),
    );
    expect(failure.subscriberReason).toBe('delivery failed (HTTP 503)');
  });

  test('a closed port, an unknown name and a refused address all read the same to the subscriber', async () => {
    const closed = await failureOf(
      sendRestHook({ url: 'http://127.0.0.1:1/hook', method: 'POST', headers: {} }, { timeoutMs: 2000, allowedHosts: parseAllowedHosts(['127.0.0.1']), resolveHost: dnsAnswering({}) }),
    );
    const unknown = await failureOf(
      sendRestHook({ url: 'https://nowhere.example.org/hook', method: 'POST', headers: {} }, { timeoutMs: 2000, allowedHosts: [], resolveHost: dnsAnswering({}) }),
    );
    const refused = await failureOf(sendRestHook({ url: `http://127.0.0.1:${port}/`, method: 'POST', headers: {} }, { timeoutMs: 2000, allowedHosts: [], resolveHost: dnsAnswering({}) }));
    expect(new Set([closed.subscriberReason, unknown.subscriberReason, refused.subscriberReason])).toEqual(new Set(['delivery failed: endpoint unreachable']));
    expect(reached).toHaveLength(0);
    expect(closed.message).toMatch(/ECONNREFUSED/);
  });

  test('redirects are not followed', async () => {
    answer = 307;
    const failure = await failureOf(
      sendRestHook({ url: `http://127.0.0.1:${port}/hook`, method: 'POST', headers: {} }, { timeoutMs: 2000, allowedHosts: parseAllowedHosts(['127.0.0.1']), resolveHost: dnsAnswering({}) }),
    );
    expect(failure.subscriberReason).toBe('delivery failed (HTTP 307)');
    expect(reached).toHaveLength(1);
  });
});
