import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type CareHubConfig, createStorageKey, parseConfig } from '@carehub/hub';
import { logOutMatrixSession, registerSynapseUser, type RegisteredMatrixUser } from '../../ops/lib/synapse-user-registration.js';
import { readRegistrationSecret, readStackInfo, type StackInfo } from '../../ops/stack-info.js';

/**
 * The real stack `npm run setup` started, with throw-away parts for one test file: its own
 * database, its own queue prefix, its own Matrix accounts. Nothing here is mocked.
 */
export const stack: StackInfo = readStackInfo();

const suffix = () => randomBytes(4).toString('hex');

/** A fresh, empty database on the stack's PostgreSQL; drop() removes it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `carehub_test_${suffix()}`;
  const admin = new pg.Client({ connectionString: stack.databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = stack.databaseUrl.replace(/\/[^/]+$/, `/${name}`);
  return {
    url,
    async drop() {
      const client = new pg.Client({ connectionString: stack.databaseUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** Registers a new account on the test homeserver (unique localpart per call). */
export async function registerTestUser(name: string, password = randomUUID()): Promise<RegisteredMatrixUser & { password: string }> {
  const user = await registerSynapseUser({
    homeserverUrl: stack.homeserverUrl,
    sharedSecret: readRegistrationSecret(stack),
    localpart: `${name}-${suffix()}`,
    password,
  });
  return { ...user, password };
}

/** A TCP port free right now, so the hub's public base URL (used in links) can name it. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A complete hub configuration for one test file: the given database, a queue prefix of its
 * own, a new bot account, and a device store in a temporary folder.
 */
export async function createTestHubConfig(databaseUrl: string, overrides: Partial<Record<keyof CareHubConfig, unknown>> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'carehub-test-'));
  const bot = await registerTestUser('bot');
  // The hub logs its bot in as a device of its own; the registration's device would only linger.
  await logOutMatrixSession(stack.homeserverUrl, bot.accessToken);
  const passwordFile = join(dir, 'bot-password');
  const keyFile = join(dir, 'device-store.key');
  writeFileSync(passwordFile, bot.password, { mode: 0o600 });
  writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  const storageKeyDir = join(dir, 'storage-keys');
  await createStorageKey(storageKeyDir);
  const port = await freePort();
  const raw = {
    // The operator's listener on any free port: several hubs of one test run side by side.
    http: { host: '127.0.0.1', port, publicBaseUrl: `http://127.0.0.1:${port}`, operator: { host: '127.0.0.1', port: 0 } },
    database: { url: databaseUrl, poolSize: 5 },
    redis: { url: stack.redisUrl, queuePrefix: `carehub-test-${suffix()}` },
    matrix: {
      homeserverUrl: stack.homeserverUrl,
      serverName: stack.serverName,
      bot: { userId: bot.userId, passwordFile },
      deviceStore: { path: join(dir, 'device.bin'), keyFile },
    },
    documents: { storageKeyDir },
    // Test subscribers (support/subscriber-endpoint.ts) listen on plain http on this machine.
    subscriptions: { allowedHosts: ['127.0.0.1'] },
    outbox: { pollIntervalMs: 200, republishAfterMs: 5000 },
    delivery: { attempts: 50, backoffMs: 200 },
    log: { level: process.env['CAREHUB_TEST_LOG'] ?? 'warn' },
    // Off here: these suites are about the API's behaviour; test/smart-auth.test.ts turns it on.
    auth: { enabled: false },
    ...overrides,
  };
  return { config: parseConfig(raw), raw, dir, bot };
}
