import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, OperationOutcome, Practitioner } from 'fhir/r4.js';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { createLogger, deleteSmartClient, generateSigningJwk, registerSmartClient, type RunningHub, setSmartClientActive, startHub } from '@carehub/hub';
import { TypedFhirClient } from '../ops/lib/typed-fhir-client.js';
import { createTestDatabase, createTestHubConfig } from './support/test-stack.js';
import { waitFor } from './support/wait-for.js';

// SMART Backend Services: an integrator's system gets a token with a signed client assertion,
// and every API call is checked against it.
let hub: RunningHub;
let dropDatabase: () => Promise<void>;
let tokenUrl: string;
const keys: Record<string, { privateKey: CryptoKey; alg: string; kid: string }> = {};

async function clientKey(name: string, alg: 'RS384' | 'ES384' | 'RS256'): Promise<JWK> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${name}-key`;
  keys[name] = { privateKey: privateKey as CryptoKey, alg, kid };
  return { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
}

async function assertion(client: string, changes: { key?: string; aud?: string; exp?: number; jti?: string } = {}): Promise<string> {
  const key = keys[changes.key ?? client]!;
  return new SignJWT({})
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuer(client)
    .setSubject(client)
    .setAudience(changes.aud ?? tokenUrl)
    .setExpirationTime(changes.exp ?? Math.floor(Date.now() / 1000) + 60)
    .setJti(changes.jti ?? randomUUID())
    .sign(key.privateKey);
}

async function requestToken(form: Record<string, string>): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

const grant = async (client: string, scope: string, clientAssertion?: string) =>
  requestToken({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: clientAssertion ?? (await assertion(client)),
    scope,
  });

async function tokenFor(client: string, scope: string): Promise<string> {
  const { status, body } = await grant(client, scope);
  expect(status).toBe(200);
  return body['access_token']!;
}

beforeAll(async () => {
  const database = await createTestDatabase();
  dropDatabase = database.drop;
  const setup = await createTestHubConfig(database.url, { roles: ['api'] });
  const signingKeyFile = join(setup.dir, 'token-signing.jwk');
  writeFileSync(signingKeyFile, JSON.stringify(await generateSigningJwk()), { mode: 0o600 });
  const config = { ...setup.config, auth: { enabled: true, signingKeyFile, tokenLifetimeSeconds: 300 } };
  hub = await startHub(config, createLogger('silent'));
  tokenUrl = `${hub.baseUrl}/auth/token`;
  await registerSmartClient(hub.db, { clientId: 'clinic-rs', organization: 'Organization/clinic', jwks: { keys: [await clientKey('clinic-rs', 'RS384')] }, scopes: ['system/*.cruds'], roles: [] });
  await registerSmartClient(hub.db, { clientId: 'registry-es', organization: 'Organization/registry', jwks: { keys: [await clientKey('registry-es', 'ES384')] }, scopes: ['system/*.rs'], roles: [] });
  await registerSmartClient(hub.db, { clientId: 'auditor', organization: 'Organization/county', jwks: { keys: [await clientKey('auditor', 'ES384')] }, scopes: ['system/*.rs'], roles: ['auditor'] });
  await registerSmartClient(hub.db, { clientId: 'retired', organization: 'Organization/old', jwks: { keys: [await clientKey('retired', 'ES384')] }, scopes: ['system/*.rs'], roles: [], active: false });
  await clientKey('stranger', 'RS384');
  await registerSmartClient(hub.db, { clientId: 'homecare', organization: 'Organization/homecare', jwks: { keys: [await clientKey('homecare', 'ES384')] }, scopes: ['system/*.cruds'], roles: [] });
  await registerSmartClient(hub.db, { clientId: 'county', organization: 'Organization/county', jwks: { keys: [await clientKey('county', 'ES384')] }, scopes: ['system/*.cruds'], roles: ['operator'] });
  await registerSmartClient(hub.db, { clientId: 'legacy', organization: 'Organization/legacy', jwks: { keys: [await clientKey('legacy', 'RS256')] }, scopes: ['system/*.rs'], roles: [] });
});

afterAll(async () => {
  await hub.stop();
  await dropDatabase();
});

describe('the token endpoint', () => {
  test('discovery names the token endpoint and private_key_jwt with RS384/ES384', async () => {
    const config = (await (await fetch(`${hub.baseUrl}/fhir/.well-known/smart-configuration`)).json()) as Record<string, unknown>;
    expect(config).toMatchObject({ token_endpoint: tokenUrl, token_endpoint_auth_methods_supported: ['private_key_jwt'], grant_types_supported: ['client_credentials'] });
    expect(config['token_endpoint_auth_signing_alg_values_supported']).toEqual(['RS384', 'ES384']);
  });

  test('RS384 and ES384 clients get short-lived tokens with the scopes they may have', async () => {
    const rs = await grant('clinic-rs', 'system/*.cruds');
    expect(rs).toMatchObject({ status: 200, body: { token_type: 'bearer', expires_in: 300, scope: 'system/*.cruds' } });
    const es = await grant('registry-es', 'system/Practitioner.rs system/Organization.c');
    expect(es).toMatchObject({ status: 200, body: { scope: 'system/Practitioner.rs' } });
  });

  test.each([
    ['HS256 instead of RS384/ES384', async () => grant('clinic-rs', 'system/*.rs', 'eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJjbGluaWMtcnMifQ.x'), 401, 'invalid_client'],
    ['RS256, even with a registered RS256 key', async () => grant('legacy', 'system/*.rs'), 401, 'invalid_client'],
    ['a key the client never registered', async () => grant('clinic-rs', 'system/*.rs', await assertion('clinic-rs', { key: 'stranger' })), 401, 'invalid_client'],
    ['another audience', async () => grant('clinic-rs', 'system/*.rs', await assertion('clinic-rs', { aud: 'https://elsewhere.example/token' })), 401, 'invalid_client'],
    ['an expired assertion', async () => grant('clinic-rs', 'system/*.rs', await assertion('clinic-rs', { exp: Math.floor(Date.now() / 1000) - 60 })), 401, 'invalid_client'],
    ['an assertion valid for an hour', async () => grant('clinic-rs', 'system/*.rs', await assertion('clinic-rs', { exp: Math.floor(Date.now() / 1000) + 3600 })), 401, 'invalid_client'],
    ['an unknown client', async () => grant('stranger', 'system/*.rs'), 401, 'invalid_client'],
    ['an inactive client', async () => grant('retired', 'system/*.rs'), 401, 'invalid_client'],
    ['scopes the client may not have', async () => grant('registry-es', 'system/*.cud'), 400, 'invalid_scope'],
    ['another grant type', async () => requestToken({ grant_type: 'password', username: 'x', password: 'y' }), 400, 'unsupported_grant_type'],
  ])('%s is refused', async (_name, attempt, status, error) => {
    const response = await attempt();
    expect(response.status).toBe(status);
    expect(response.body['error']).toBe(error);
  });

  test('a replayed assertion (same jti) is refused', async () => {
    const once = await assertion('clinic-rs', { jti: 'only-once' });
    expect((await grant('clinic-rs', 'system/*.rs', once)).status).toBe(200);
    expect((await grant('clinic-rs', 'system/*.rs', once)).body['error']).toBe('invalid_client');
  });
});

describe('the FHIR API with authorization on', () => {
  const outcome = async (response: Response) => ({ status: response.status, body: (await response.json()) as OperationOutcome, challenge: response.headers.get('www-authenticate') });

  test('no token, or a tampered one, is 401 with an OperationOutcome; the CapabilityStatement stays public', async () => {
    const none = await outcome(await fetch(`${hub.baseUrl}/fhir/Practitioner`));
    expect(none).toMatchObject({ status: 401, challenge: 'Bearer', body: { resourceType: 'OperationOutcome' } });
    const token = await tokenFor('registry-es', 'system/*.rs');
    const tampered = `${token.slice(0, -4)}AAAA`;
    expect((await fetch(`${hub.baseUrl}/fhir/Practitioner`, { headers: { authorization: `Bearer ${tampered}` } })).status).toBe(401);
    expect((await fetch(`${hub.baseUrl}/fhir/metadata`)).status).toBe(200);
  });

  test('an integrator with write scopes creates and reads with a stock client; a read-only one is refused a write with 403', async () => {
    const writer = new TypedFhirClient(`${hub.baseUrl}/fhir`, await tokenFor('clinic-rs', 'system/*.cruds'));
    const created = await writer.create({ resourceType: 'Practitioner', name: [{ family: 'Authorised' }] });
    const reader = new TypedFhirClient(`${hub.baseUrl}/fhir`, await tokenFor('registry-es', 'system/*.rs'));
    expect(await reader.read('Practitioner', created.id)).toMatchObject({ id: created.id });
    await expect(reader.create({ resourceType: 'Practitioner', name: [{ family: 'Refused' }] })).rejects.toMatchObject({ response: { status: 403 } });
    const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Practitioner' }, request: { method: 'POST', url: 'Practitioner' } }] };
    await expect(reader.transaction(bundle)).rejects.toMatchObject({ response: { status: 403 } });
  });

  test('AuditEvents name the client, and only the auditor role may read them', async () => {
    const integrator = new TypedFhirClient(`${hub.baseUrl}/fhir`, await tokenFor('registry-es', 'system/*.rs'));
    await expect(integrator.search('AuditEvent', {})).rejects.toMatchObject({ response: { status: 403 } });
    const auditor = new TypedFhirClient(`${hub.baseUrl}/fhir`, await tokenFor('auditor', 'system/*.rs'));
    const events = await waitFor(async () => {
      const bundle = await auditor.search('AuditEvent', { _count: '100' });
      const byClinic = (bundle.entry ?? []).filter((e) => JSON.stringify(e.resource).includes('"clinic-rs"'));
      return byClinic.length > 0 ? byClinic : undefined;
    }, 'an AuditEvent naming clinic-rs');
    expect(JSON.stringify(events[0]!.resource)).toContain('Organization/clinic');
  });
});

describe('who may change what', () => {
  const client = async (name: string) => new TypedFhirClient(`${hub.baseUrl}/fhir`, await tokenFor(name, 'system/*.cruds'));

  test("an integrator changes only its own organisation's resources; the operator may change any", async () => {
    const clinic = await client('clinic-rs');
    const homecare = await client('homecare');
    const county = await client('county');
    const created = await clinic.create<Practitioner>({ resourceType: 'Practitioner', name: [{ family: 'Owned' }] });
    expect(created.meta!.tag).toContainEqual({ system: 'http://carehub.example.org/fhir/CodeSystem/owner', code: 'Organization/clinic' });

    await expect(homecare.update({ ...created, active: false })).rejects.toMatchObject({ response: { status: 403 } });
    await expect(homecare.delete('Practitioner', created.id)).rejects.toMatchObject({ response: { status: 403 } });
    await expect(homecare.patch('Practitioner', created.id, [{ op: 'add', path: '/active', value: false }])).rejects.toMatchObject({ response: { status: 403 } });
    expect((await clinic.update({ ...created, active: true })).meta!.versionId).toBe('2');
    expect(await homecare.read('Practitioner', created.id)).toMatchObject({ active: true });

    await county.delete('Practitioner', created.id);
    await expect(clinic.read('Practitioner', created.id)).rejects.toMatchObject({ response: { status: 410 } });
  });

  test('an integrator may update its own Organization, loaded by the operator', async () => {
    const county = await client('county');
    await county.update({ resourceType: 'Organization', id: 'homecare', name: 'Havnegade Home Care' });
    const homecare = await client('homecare');
    const updated = await homecare.update({ resourceType: 'Organization', id: 'homecare', name: 'Havnegade Home Care ApS' });
    expect(updated.name).toBe('Havnegade Home Care ApS');
    await expect((await client('clinic-rs')).update({ resourceType: 'Organization', id: 'homecare', name: 'Taken over' })).rejects.toMatchObject({ response: { status: 403 } });
  });
});

describe('documents under authorization', () => {
  test('document content is read only by a party with a token whose scopes cover Binary; without a token nothing is decrypted', async () => {
    const writer = await tokenFor('clinic-rs', 'system/*.cruds');
    const upload = await fetch(`${hub.baseUrl}/fhir/Binary`, {
      method: 'POST',
      headers: { authorization: `Bearer ${writer}`, 'content-type': 'text/plain' },
      body: 'Medication list: paracetamol 1 g x 3',
    });
    expect(upload.status).toBe(201);
    const url = upload.headers.get('location')!.replace(/\/_history\/\d+$/, '');

    expect((await fetch(url)).status).toBe(401);
    const onlyPractitioners = await tokenFor('registry-es', 'system/Practitioner.rs');
    expect((await fetch(url, { headers: { authorization: `Bearer ${onlyPractitioners}` } })).status).toBe(403);
    // Another organisation's client with Binary scopes is no party to the document (access policy).
    const outsider = await tokenFor('registry-es', 'system/Binary.rs');
    expect((await fetch(url, { headers: { authorization: `Bearer ${outsider}` } })).status).toBe(404);
    const reader = await tokenFor('clinic-rs', 'system/Binary.rs');
    const read = await fetch(url, { headers: { authorization: `Bearer ${reader}` } });
    expect(read.status).toBe(200);
    expect(await read.text()).toBe('Medication list: paracetamol 1 g x 3');
  });
});

describe("an operator ends a client's access", () => {
  const practitioners = (token: string) => fetch(`${hub.baseUrl}/fhir/Practitioner`, { headers: { authorization: `Bearer ${token}` } });

  /** Polls with the token until it is refused; the issue's bound is 10 s (the cache holds a state 5 s). */
  const refusedWithin10s = (token: string, what: string) =>
    waitFor(
      async () => {
        const response = await practitioners(token);
        return response.status === 401 ? response : undefined;
      },
      what,
      10_000,
      250,
    );

  async function registeredClient(clientId: string): Promise<string> {
    await registerSmartClient(hub.db, { clientId, organization: `Organization/${clientId}`, jwks: { keys: [await clientKey(clientId, 'ES384')] }, scopes: ['system/*.rs'], roles: [] });
    const token = await tokenFor(clientId, 'system/*.rs');
    expect((await practitioners(token)).status).toBe(200);
    return token;
  }

  test("a disabled client's existing token is refused within seconds, and it gets no new one; enabled again, it works", async () => {
    const token = await registeredClient('leaving-clinic');
    await setSmartClientActive(hub.db, 'leaving-clinic', false);
    const refused = await refusedWithin10s(token, "the disabled client's token to be refused");
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    expect(await refused.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'login' }] });
    expect((await grant('leaving-clinic', 'system/*.rs')).body['error']).toBe('invalid_client');

    await setSmartClientActive(hub.db, 'leaving-clinic', true);
    await waitFor(async () => ((await practitioners(token)).status === 200 ? true : undefined), 'the re-enabled client to be served', 10_000, 250);
  });

  test("a deleted client's existing token is refused within seconds", async () => {
    const token = await registeredClient('closed-clinic');
    await deleteSmartClient(hub.db, 'closed-clinic');
    const refused = await refusedWithin10s(token, "the deleted client's token to be refused");
    expect(await refused.json()).toMatchObject({ resourceType: 'OperationOutcome' });
    expect((await grant('closed-clinic', 'system/*.rs')).body['error']).toBe('invalid_client');
  });
});

describe('the token is checked before the body is read', () => {
  test('an anonymous body that is not JSON, or larger than the hub accepts, is refused for want of a token (401), not parsed (400, 413)', async () => {
    const notJson = await fetch(`${hub.baseUrl}/fhir/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: '{"resourceType": "Patient", ' });
    expect(notJson.status).toBe(401);
    const tooLarge = await fetch(`${hub.baseUrl}/fhir`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: `{"resourceType":"Bundle","type":"batch","entry":[${'{},'.repeat(2_000_000)}{}]}` });
    expect(tooLarge.status).toBe(401);
    expect(await tooLarge.json()).toMatchObject({ resourceType: 'OperationOutcome' });
  });

  test('with a token, a Bundle is still checked entry by entry once it is parsed', async () => {
    const reader = await tokenFor('registry-es', 'system/*.rs');
    const bundle = { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Practitioner' } }, { resource: { resourceType: 'Practitioner' }, request: { method: 'POST', url: 'Practitioner' } }] };
    const response = await fetch(`${hub.baseUrl}/fhir`, { method: 'POST', headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify(bundle) });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'forbidden' }] });
  });
});
