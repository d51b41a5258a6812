import { createServer } from 'node:net';
import type { OperationOutcome, Subscription } from 'fhir/r4.js';
import { createLogger, type RunningHub, startHub } from '@carehub/hub';
import { SubscriberEndpoint } from './support/subscriber-endpoint.js';
import { createTestDatabase, createTestHubConfig } from './support/test-stack.js';
import { waitFor } from './support/wait-for.js';

// An integrator's Subscription names where the hub sends notifications. It must not make the hub
// a probe of the operator's network: internal addresses are refused when the Subscription is
// written, and what a failing subscriber is told says nothing of addresses or ports.
let hub: RunningHub;
let dropDatabase: () => Promise<void>;
let failing: SubscriberEndpoint;
let closedPort: number;
const TIMEOUT = 120_000;

/** A port nothing listens on (taken and given back at once). */
async function closedLocalPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  const database = await createTestDatabase();
  dropDatabase = database.drop;
  failing = await SubscriberEndpoint.start();
  failing.failNext = 1_000;
  closedPort = await closedLocalPort();
  // The operator lists exactly these two test endpoints; other loopback ports stay refused.
  const setup = await createTestHubConfig(database.url, {
    subscriptions: { allowedHosts: [new URL(failing.url).host, `127.0.0.1:${closedPort}`] },
    delivery: { attempts: 3, backoffMs: 100, maxBackoffMs: 200 },
  });
  hub = await startHub(setup.config, createLogger(setup.config.log.level));
}, TIMEOUT);

afterAll(async () => {
  await hub?.stop();
  await failing?.stop();
  await dropDatabase?.();
});

const subscriptionTo = (endpoint: string, criteria = 'Communication?status=completed'): Subscription => ({
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'The clinic follows its messages',
  criteria,
  channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json' },
});

async function send(method: string, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${hub.baseUrl}/fhir/${path}`, { method, headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

describe('a Subscription names an endpoint the hub may call', () => {
  test.each([
    ['Redis on loopback', 'http://127.0.0.1:6379', /loopback address/],
    ['PostgreSQL on localhost', 'http://localhost:5432', /loopback address/],
    ['a private network address', 'http://10.0.0.1/', /private network address/],
    ['the cloud metadata service', 'https://169.254.169.254/', /link-local address/],
    ['IPv6 loopback', 'http://[::1]/', /loopback address/],
    ['IPv4-mapped IPv6 loopback', 'https://[::ffff:127.0.0.1]/', /loopback address/],
    ['a public host over plain http', 'http://hooks.clinic.example.org/fhir', /must be https/],
  ])('%s is refused when the Subscription is created (422)', async (_name, endpoint, rule) => {
    const answer = await send('POST', 'Subscription', subscriptionTo(endpoint));
    expect(answer.status).toBe(422);
    const outcome = answer.body as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0]).toMatchObject({ severity: 'error', expression: ['Subscription.channel.endpoint'] });
    expect(outcome.issue[0]!.diagnostics).toMatch(rule);
  });

  test('an https endpoint on a public host is accepted; changing it to an internal address is refused', async () => {
    const created = await send('POST', 'Subscription', subscriptionTo('https://hooks.clinic.example.org/fhir', 'Communication?status=entered-in-error'));
    expect(created.status).toBe(201);
    const subscription = created.body as Subscription & { id: string };
    const changed = await send('PUT', `Subscription/${subscription.id}`, { ...subscription, channel: { ...subscription.channel, endpoint: 'http://192.168.1.1:8080/' } });
    expect(changed.status).toBe(422);
    expect((changed.body as OperationOutcome).issue[0]).toMatchObject({ expression: ['Subscription.channel.endpoint'] });
  });

  test(
    "a failing subscription's stored error tells the HTTP status or 'unreachable', never an address or port",
    async () => {
      const answering503 = (await send('POST', 'Subscription', subscriptionTo(failing.url))).body as Subscription & { id: string };
      const closed = (await send('POST', 'Subscription', subscriptionTo(`http://127.0.0.1:${closedPort}/hook`))).body as Subscription & { id: string };
      expect(answering503.id && closed.id).toBeTruthy();
      expect((await send('POST', 'Communication', { resourceType: 'Communication', status: 'completed' })).status).toBe(201);

      const inError = async (id: string) =>
        waitFor(async () => {
          const response = await fetch(`${hub.baseUrl}/fhir/Subscription/${id}`);
          const subscription = (await response.json()) as Subscription;
          return subscription.status === 'error' ? subscription : undefined;
        }, `Subscription/${id} to be in error`);
      const [served503, unreachable] = await Promise.all([inError(answering503.id), inError(closed.id)]);
      expect(served503.error).toBe('delivery failed (HTTP 503)');
      expect(unreachable.error).toBe('delivery failed: endpoint unreachable');
      for (const subscription of [served503, unreachable]) {
        expect(subscription.error).not.toMatch(/127\.0\.0\.1|ECONN|\d{4,5}|\bms\b/);
      }
    },
    TIMEOUT,
  );
});
