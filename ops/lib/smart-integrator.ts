import { registerSmartClient } from '@carehub/hub';
import { fetchAccessToken, generateClientKeys } from './smart-client-credentials.js';

/** What the hub answered: its status and the FHIR JSON it returned. */
export interface FhirAnswer<T = unknown> {
  status: number;
  body: T;
}

/** An integrator's system against a running hub: a SMART backend client of one organisation, with its access token. */
export interface SmartIntegrator {
  clientId: string;
  /** "Organization/<id>" the client acts for. */
  organization: string;
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<FhirAnswer<T>>;
}

/**
 * Registers a SMART backend client in the hub's database (as `npm run register-client` does) and
 * gets it a token, for a hub running in its own process (HubProcess): benchmarks and the demo
 * drive the API with authorization on, as integrators do. `db` is the hub's own database.
 */
export async function connectSmartIntegrator(
  db: Parameters<typeof registerSmartClient>[0],
  hubBaseUrl: string,
  client: { clientId: string; organization: string; scopes?: string[]; roles?: string[] },
): Promise<SmartIntegrator> {
  const scopes = client.scopes ?? ['system/*.cruds'];
  const keys = await generateClientKeys(`${client.clientId}-key`);
  await registerSmartClient(db, { clientId: client.clientId, organization: client.organization, jwks: { keys: [keys.publicJwk] }, scopes, roles: client.roles ?? [] });
  const token = await fetchAccessToken(`${hubBaseUrl}/auth/token`, client.clientId, keys.privateJwk, scopes.join(' '));
  return {
    clientId: client.clientId,
    organization: client.organization,
    async request<T>(method: string, path: string, body?: unknown): Promise<FhirAnswer<T>> {
      const response = await fetch(`${hubBaseUrl}/fhir/${path.replace(/^\//, '')}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/fhir+json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
  };
}
