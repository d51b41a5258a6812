import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, Endpoint, Organization, Practitioner, PractitionerRole } from 'fhir/r4.js';
import { CAREHUB_ENDPOINT_CONNECTION_SYSTEM, MATRIX_CONNECTION_CODE, matrixUserOfEndpoint } from '@carehub/hub';
import { localpartFromName } from '../ops/lib/practitioner-localpart.js';
import { onboardPractitioner, OnboardingRefusedError, reissueOneTimeLogin, type OnboardingHub } from '../ops/lib/practitioner-onboarding.js';
import { openSynapseAdminSession, type SynapseAdminSession } from '../ops/lib/synapse-admin-session.js';
import { TypedFhirClient } from '../ops/lib/typed-fhir-client.js';
import { startApiHub, type ApiHub } from './support/api-hub.js';
import { gpPracticeBundle, idOf, transaction } from './support/fhir-fixtures.js';
import { registerTestUser, stack } from './support/test-stack.js';
import { readRegistrationSecret } from '../ops/stack-info.js';

// An operator onboards a practice that has no Matrix account: the hub's homeserver gets an
// account for the GP, the directory links it to the GP's role, and the practice gets a login
// that works exactly once.
let api: ApiHub;
let hub: OnboardingHub;
// Letters only, so the derived localpart is predictable and unique to this run.
const run = Array.from(randomBytes(6), (b) => String.fromCharCode(97 + (b % 26))).join('');

beforeAll(async () => {
  api = await startApiHub();
  hub = { fhir: api.fhir, homeserverUrl: stack.homeserverUrl, registrationSecret: readRegistrationSecret(stack) };
});

afterAll(async () => {
  await admin?.close();
  await api.stop();
});

/**
 * The operators' Synapse admin, as --reissue opens it, with an account of this run: the first
 * session registers it and keeps its password; this one logs in with the kept password.
 */
let admin: SynapseAdminSession | undefined;
async function synapseAdmin(): Promise<SynapseAdminSession> {
  if (admin) return admin;
  const account = {
    homeserverUrl: stack.homeserverUrl,
    sharedSecret: readRegistrationSecret(stack),
    localpart: `ops-admin-${run}`,
    passwordFile: join(mkdtempSync(join(tmpdir(), 'carehub-ops-')), 'synapse-admin-password'),
  };
  await (await openSynapseAdminSession(account)).close();
  admin = await openSynapseAdminSession(account);
  return admin;
}

/** A GP practice whose GP, Dr. Søren Kjær-<run>, has a role but no Matrix Endpoint. */
async function practiceWithoutMatrix(): Promise<{ roleId: string; organization: string }> {
  const organization: Organization = { resourceType: 'Organization', active: true, name: 'Kjær Practice' };
  const practitioner: Practitioner = { resourceType: 'Practitioner', active: true, name: [{ use: 'official', prefix: ['Dr.'], given: ['Søren'], family: `Kjær-${run}` }] };
  const role: PractitionerRole = {
    resourceType: 'PractitionerRole',
    active: true,
    practitioner: { reference: 'urn:uuid:3c1d0000-0000-4000-8000-000000000002' },
    organization: { reference: 'urn:uuid:3c1d0000-0000-4000-8000-000000000001' },
    code: [{ text: 'General practitioner' }],
  };
  const response = await api.fhir.transaction(
    transaction(
      { fullUrl: 'urn:uuid:3c1d0000-0000-4000-8000-000000000001', resource: organization, request: { method: 'POST', url: 'Organization' } },
      { fullUrl: 'urn:uuid:3c1d0000-0000-4000-8000-000000000002', resource: practitioner, request: { method: 'POST', url: 'Practitioner' } },
      { fullUrl: 'urn:uuid:3c1d0000-0000-4000-8000-000000000003', resource: role, request: { method: 'POST', url: 'PractitionerRole' } },
    ),
  );
  return { roleId: idOf(response, 'PractitionerRole'), organization: `Organization/${idOf(response, 'Organization')}` };
}

async function logInWithToken(token: string): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(new URL('/_matrix/client/v3/login', stack.homeserverUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'm.login.token', token }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

async function devicesOf(accessToken: string): Promise<string[]> {
  const response = await fetch(new URL('/_matrix/client/v3/devices', stack.homeserverUrl), { headers: { authorization: `Bearer ${accessToken}` } });
  return ((await response.json()) as { devices: { device_id: string }[] }).devices.map((d) => d.device_id);
}

test('a Matrix localpart is made from the practitioner’s name in lowercase ASCII', () => {
  expect(localpartFromName({ prefix: ['Dr.'], given: ['Karen'], family: 'Jensen' })).toBe('dr-karen-jensen');
  expect(localpartFromName({ given: ['Åse', 'Marie'], family: 'Bødker Lærke' })).toBe('aase-marie-boedker-laerke');
  expect(localpartFromName({ text: 'José Núñez' })).toBe('jose-nunez');
  expect(localpartFromName({ text: '  — ' })).toBeUndefined();
});

test('an operator onboards a GP without Matrix: the role gets an Endpoint to a new account, whose one-time login works once', async () => {
  const { roleId, organization } = await practiceWithoutMatrix();

  const onboarded = await onboardPractitioner(hub, { practitionerRoleId: roleId });

  expect(onboarded.matrixUserId).toBe(`@dr-soeren-kjaer-${run}:${stack.serverName}`);
  const role = await api.fhir.read<PractitionerRole>('PractitionerRole', roleId);
  expect(role.endpoint).toEqual([{ reference: `Endpoint/${onboarded.endpointId}` }]);
  const endpoint = await api.fhir.read<Endpoint>('Endpoint', onboarded.endpointId);
  expect(endpoint).toMatchObject({
    status: 'active',
    connectionType: { system: CAREHUB_ENDPOINT_CONNECTION_SYSTEM, code: MATRIX_CONNECTION_CODE },
    payloadType: [{ text: 'CareHub referral messages' }],
    address: `matrix:u/${onboarded.matrixUserId}`,
    managingOrganization: { reference: organization },
  });
  expect(matrixUserOfEndpoint(endpoint)).toBe(onboarded.matrixUserId);

  const { login } = onboarded;
  expect(login).toMatchObject({ homeserverUrl: stack.homeserverUrl, userId: onboarded.matrixUserId });
  expect(login.expiresAt.getTime() - Date.now()).toBeGreaterThan(23 * 3600_000);
  const first = await logInWithToken(login.token);
  expect(first.status).toBe(200);
  expect(first.body['user_id']).toBe(onboarded.matrixUserId);
  // The registration's session was logged out: the practice's login is the account's only device.
  expect(await devicesOf(first.body['access_token']!)).toEqual([first.body['device_id']]);

  const second = await logInWithToken(login.token);
  expect(second.status).toBe(403);
  expect(second.body['errcode']).toBe('M_FORBIDDEN');
});

test('a second GP of the same name gets the name with a suffix', async () => {
  const first = await practiceWithoutMatrix();
  const second = await practiceWithoutMatrix();
  const ids = [
    (await onboardPractitioner(hub, { practitionerRoleId: first.roleId })).matrixUserId,
    (await onboardPractitioner(hub, { practitionerRoleId: second.roleId })).matrixUserId,
  ];
  // The first test's GP already holds the bare name.
  expect(ids).toEqual([`@dr-soeren-kjaer-${run}-2:${stack.serverName}`, `@dr-soeren-kjaer-${run}-3:${stack.serverName}`]);
});

test('a role that already reaches someone over Matrix is refused, naming that Matrix ID, and is left as it was', async () => {
  const gp = await registerTestUser('gp');
  const roleId = idOf(await api.fhir.transaction(gpPracticeBundle(gp.userId)), 'PractitionerRole');
  const before = await api.fhir.read<PractitionerRole>('PractitionerRole', roleId);

  const refusal = await onboardPractitioner(hub, { practitionerRoleId: roleId }).catch((error: unknown) => error);

  expect(refusal).toBeInstanceOf(OnboardingRefusedError);
  expect((refusal as OnboardingRefusedError).matrixUserId).toBe(gp.userId);
  expect((refusal as Error).message).toContain(gp.userId);
  expect((await api.fhir.read<PractitionerRole>('PractitionerRole', roleId)).meta?.versionId).toBe(before.meta?.versionId);
});

test('a role that does not exist is refused', async () => {
  await expect(onboardPractitioner(hub, { practitionerRoleId: 'no-such-role' })).rejects.toThrow(new OnboardingRefusedError('PractitionerRole/no-such-role does not exist'));
});

test('a localpart given by the operator is used as it is, and refused when taken', async () => {
  const { roleId } = await practiceWithoutMatrix();
  const taken = await registerTestUser('taken');
  const localpart = taken.userId.slice(1).split(':')[0]!;
  await expect(onboardPractitioner(hub, { practitionerRoleId: roleId, localpart })).rejects.toThrow(OnboardingRefusedError);
  expect((await api.fhir.read<PractitionerRole>('PractitionerRole', roleId)).endpoint).toBeUndefined();

  const onboarded = await onboardPractitioner(hub, { practitionerRoleId: roleId, localpart: `${localpart}-practice` });
  expect(onboarded.matrixUserId).toBe(`@${localpart}-practice:${stack.serverName}`);
});

test('when the directory write fails, nothing is half-linked and the new account is deactivated again', async () => {
  const { roleId, organization } = await practiceWithoutMatrix();
  // Another operator edits the role between onboarding's read and its transaction: If-Match fails it.
  class ConcurrentlyEditedFhir extends TypedFhirClient {
    override async transaction(bundle: Bundle): Promise<Bundle> {
      const role = await this.read<PractitionerRole>('PractitionerRole', roleId);
      await this.update({ ...role, id: roleId, code: [{ text: 'General practitioner, partner' }] });
      return super.transaction(bundle);
    }
  }
  const failing = { ...hub, fhir: new ConcurrentlyEditedFhir(`${api.hub.baseUrl}/fhir`) };

  const failure = (await onboardPractitioner(failing, { practitionerRoleId: roleId }).catch((error: unknown) => error)) as Error;

  expect(failure.message).toMatch(/HTTP 412/);
  const userId = failure.message.match(/new account (@\S+) was deactivated again/)?.[1];
  expect(userId).toMatch(new RegExp(`^@dr-soeren-kjaer-${run}-\\d+:${stack.serverName}$`));
  expect((await api.fhir.read<PractitionerRole>('PractitionerRole', roleId)).endpoint).toBeUndefined();
  const endpoints = await api.fhir.search('Endpoint', { organization });
  expect(endpoints.entry ?? []).toEqual([]);
  const account = await fetch(new URL(`/_synapse/admin/v2/users/${encodeURIComponent(userId!)}`, stack.homeserverUrl), {
    headers: { authorization: `Bearer ${(await synapseAdmin()).accessToken}` },
  });
  expect(((await account.json()) as { deactivated: boolean }).deactivated).toBe(true);
});

test('reissue: a new one-time login for the account a role already reaches, through the operators’ Synapse admin', async () => {
  const gp = await registerTestUser('gp');
  const roleId = idOf(await api.fhir.transaction(gpPracticeBundle(gp.userId)), 'PractitionerRole');

  const login = await reissueOneTimeLogin(hub, await synapseAdmin(), { practitionerRoleId: roleId });

  expect(login.userId).toBe(gp.userId);
  const loggedIn = await logInWithToken(login.token);
  expect(loggedIn.status).toBe(200);
  expect(loggedIn.body['user_id']).toBe(gp.userId);
  expect((await logInWithToken(login.token)).status).toBe(403);
});

test('reissue for a role without a Matrix Endpoint is refused', async () => {
  const { roleId } = await practiceWithoutMatrix();
  await expect(reissueOneTimeLogin(hub, await synapseAdmin(), { practitionerRoleId: roleId })).rejects.toThrow(/has no active Matrix Endpoint/);
});
