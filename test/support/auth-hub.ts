import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CareHubConfig, createLogger, generateSigningJwk, registerSmartClient, type RunningHub, startHub } from '@carehub/hub';
import { fetchAccessToken, generateClientKeys } from '../../ops/lib/smart-client-credentials.js';
import { createTestDatabase, createTestHubConfig } from './test-stack.js';

export interface ApiAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests look into FHIR JSON of any shape
  body: any;
  headers: Headers;
}

/** One integrator's system: a SMART backend client of one organisation, with its token. */
export interface Integrator {
  clientId: string;
  organization: string;
  token: string;
  request(method: string, path: string, options?: { body?: unknown; headers?: Record<string, string>; contentType?: string }): Promise<ApiAnswer>;
}

export interface AuthHub {
  hub: RunningHub;
  baseUrl: string;
  integrator(clientId: string, organization: string, options?: { scopes?: string[]; roles?: string[] }): Promise<Integrator>;
  stop(): Promise<void>;
}

/** The hub with SMART Backend Services authorization on, on a database of its own. */
export async function startAuthHub(
  roles: CareHubConfig['roles'] = ['api'],
  overrides: Partial<Record<keyof CareHubConfig, unknown>> = {},
  /** Changes to the parsed config, for nested options the overrides would replace whole (matrix.keySharing). */
  adjust: (config: CareHubConfig) => CareHubConfig = (config) => config,
): Promise<AuthHub> {
  const database = await createTestDatabase();
  const setup = await createTestHubConfig(database.url, { roles, ...overrides });
  const signingKeyFile = join(setup.dir, 'token-signing.jwk');
  writeFileSync(signingKeyFile, JSON.stringify(await generateSigningJwk()), { mode: 0o600 });
  const config = adjust({ ...setup.config, auth: { enabled: true, signingKeyFile, tokenLifetimeSeconds: 300 } });
  const hub = await startHub(config, createLogger(process.env['CAREHUB_TEST_LOG'] ?? 'silent'));
  const baseUrl = hub.baseUrl!;
  return {
    hub,
    baseUrl,
    async integrator(clientId, organization, { scopes = ['system/*.cruds'], roles: clientRoles = [] } = {}) {
      const keys = await generateClientKeys(`${clientId}-key`);
      await registerSmartClient(hub.db, { clientId, organization, jwks: { keys: [keys.publicJwk] }, scopes, roles: clientRoles });
      const token = await fetchAccessToken(`${baseUrl}/auth/token`, clientId, keys.privateJwk, scopes.join(' '));
      return {
        clientId,
        organization,
        token,
        async request(method, path, options = {}) {
          const raw = options.body !== undefined && typeof options.body !== 'string' ? JSON.stringify(options.body) : options.body;
          const response = await fetch(`${baseUrl}/fhir/${path.replace(/^\//, '')}`, {
            method,
            headers: {
              authorization: `Bearer ${token}`,
              ...(raw !== undefined ? { 'content-type': options.contentType ?? 'application/fhir+json' } : {}),
              ...options.headers,
            },
            ...(raw !== undefined ? { body: raw as string } : {}),
          });
          const text = await response.text();
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // raw content (a Binary's bytes)
          }
          return { status: response.status, body, headers: response.headers };
        },
      };
    },
    async stop() {
      await hub.stop();
      await database.drop();
    },
  };
}
