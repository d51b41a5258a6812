import { randomBytes, randomUUID } from 'node:crypto';
import type { Bundle, Endpoint, OperationOutcome, Practitioner, PractitionerRole } from 'fhir/r4.js';
import { CAREHUB_PROFILES } from '@carehub/fhir-profiles';
import { CAREHUB_ENDPOINT_CONNECTION_SYSTEM, MATRIX_CONNECTION_CODE, matrixUserOfEndpoint } from '@carehub/hub';
import { logOutMatrixSession, MatrixUserExistsError, registerSynapseUser, type RegisteredMatrixUser } from './synapse-user-registration.js';
import { mintOneTimeLogin, type OneTimeLogin } from './matrix-one-time-login.js';
import { displayName, localpartFromName, LOCALPART_PATTERN, nameOfPractitioner } from './practitioner-localpart.js';
import { actAsUser, type SynapseAdminSession } from './synapse-admin-session.js';
import type { TypedFhirClient } from './typed-fhir-client.js';

/** Onboarding was not done, for a reason the operator can act on; nothing was changed. */
export class OnboardingRefusedError extends Error {
  /** The Matrix ID the role already reaches, when that is the reason. */
  constructor(message: string, readonly matrixUserId?: string) {
    super(message);
  }
}

/** Where a practice is onboarded: the hub's FHIR API (as the operator) and its homeserver. */
export interface OnboardingHub {
  fhir: TypedFhirClient;
  homeserverUrl: string;
  /** Synapse's registration shared secret: accounts can only be made with it (open registration is off). */
  registrationSecret: string;
}

export interface OnboardedPractitioner {
  matrixUserId: string;
  endpointId: string;
  login: OneTimeLogin;
}

/** A suffix is tried up to this many times before onboarding gives up on a derived localpart. */
const MAX_SUFFIX = 20;

/**
 * Onboards a practitioner who has no Matrix account: registers one on the hub's homeserver
 * (random password, never shown or kept), links it to the PractitionerRole through a new
 * Matrix Endpoint, and hands out a one-time login for it. The Endpoint and the role's link to it
 * are written in one FHIR transaction; if that fails, the new account is deactivated, so
 * nothing is left half-done.
 */
export async function onboardPractitioner(hub: OnboardingHub, request: { practitionerRoleId: string; localpart?: string }): Promise<OnboardedPractitioner> {
  const role = await readRole(hub.fhir, request.practitionerRoleId);
  const existing = await matrixUserOfRole(hub.fhir, role);
  if (existing) {
    throw new OnboardingRefusedError(`PractitionerRole/${role.id} already reaches ${existing} over Matrix; for a new one-time login use --reissue`, existing);
  }
  const name = await practitionerName(hub.fhir, role);
  const password = randomBytes(32).toString('base64url');
  const account = await registerAccount(hub, candidateLocalparts(request.localpart, name), password, name && displayName(name));
  try {
    const login = await mintOneTimeLogin(hub.homeserverUrl, account.userId, account.accessToken);
    const endpointId = await linkMatrixEndpoint(hub.fhir, role, account.userId, name && displayName(name));
    await logOutMatrixSession(hub.homeserverUrl, account.accessToken);
    return { matrixUserId: account.userId, endpointId, login };
  } catch (error) {
    const undone = await deactivateAccount(hub.homeserverUrl, account, password).then(
      () => `the new account ${account.userId} was deactivated again`,
      (failure: Error) => `the new account ${account.userId} is linked to nothing and could not be deactivated (${failure.message})`,
    );
    throw new Error(`onboarding PractitionerRole/${role.id} failed, ${undone}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * A new one-time login for the account a role already reaches on the hub's homeserver, minted
 * through a Synapse admin's session acting as that user (e.g. the first token expired).
 */
export async function reissueOneTimeLogin(hub: Pick<OnboardingHub, 'fhir' | 'homeserverUrl'>, admin: SynapseAdminSession, request: { practitionerRoleId: string }): Promise<OneTimeLogin> {
  const role = await readRole(hub.fhir, request.practitionerRoleId);
  const userId = await matrixUserOfRole(hub.fhir, role);
  if (!userId) throw new OnboardingRefusedError(`PractitionerRole/${role.id} has no active Matrix Endpoint; onboard it first (without --reissue)`);
  const adminServer = admin.userId.slice(admin.userId.indexOf(':') + 1);
  if (userId.slice(userId.indexOf(':') + 1) !== adminServer) {
    throw new OnboardingRefusedError(`PractitionerRole/${role.id} reaches ${userId}, an account on another homeserver than ${adminServer}; its own homeserver gives out its logins`, userId);
  }
  const accessToken = await actAsUser(hub.homeserverUrl, admin, userId);
  try {
    return await mintOneTimeLogin(hub.homeserverUrl, userId, accessToken);
  } finally {
    await logOutMatrixSession(hub.homeserverUrl, accessToken);
  }
}

async function readRole(fhir: TypedFhirClient, id: string): Promise<PractitionerRole & { id: string }> {
  try {
    return (await fhir.read<PractitionerRole>('PractitionerRole', id)) as PractitionerRole & { id: string };
  } catch (error) {
    const status = (error as { response?: { status?: number } }).response?.status;
    if (status === 404 || status === 410) throw new OnboardingRefusedError(`PractitionerRole/${id} does not exist`);
    throw fhirFailure(`reading PractitionerRole/${id}`, error);
  }
}

/** The Matrix ID the role's active Matrix Endpoints reach (the first), if any. */
async function matrixUserOfRole(fhir: TypedFhirClient, role: PractitionerRole): Promise<string | undefined> {
  for (const reference of role.endpoint ?? []) {
    const id = reference.reference?.match(/(?:^|\/)Endpoint\/([^/]+)$/)?.[1];
    if (!id) continue;
    const endpoint = await fhir.read<Endpoint>('Endpoint', id).catch(() => undefined);
    const userId = endpoint && matrixUserOfEndpoint(endpoint);
    if (userId) return userId;
  }
  return undefined;
}

async function practitionerName(fhir: TypedFhirClient, role: PractitionerRole) {
  const id = role.practitioner?.reference?.match(/(?:^|\/)Practitioner\/([^/]+)$/)?.[1];
  return id ? nameOfPractitioner(await fhir.read<Practitioner>('Practitioner', id)) : undefined;
}

/** The localparts to try in turn: the one asked for, alone; else the name's, then name-2, name-3, … */
function candidateLocalparts(asked: string | undefined, name: ReturnType<typeof nameOfPractitioner>): string[] {
  if (asked !== undefined) {
    if (!LOCALPART_PATTERN.test(asked)) throw new OnboardingRefusedError(`--localpart ${asked}: use lowercase a-z, 0-9 and . _ = / + -`);
    return [asked];
  }
  const base = name && localpartFromName(name);
  if (!base) throw new OnboardingRefusedError('the practitioner has no name to make a Matrix ID from; give one with --localpart');
  return [base, ...Array.from({ length: MAX_SUFFIX - 1 }, (_, i) => `${base}-${i + 2}`)];
}

async function registerAccount(hub: OnboardingHub, localparts: string[], password: string, displayName: string | undefined): Promise<RegisteredMatrixUser> {
  for (const localpart of localparts) {
    try {
      return await registerSynapseUser({ homeserverUrl: hub.homeserverUrl, sharedSecret: hub.registrationSecret, localpart, password, displayName });
    } catch (error) {
      if (!(error instanceof MatrixUserExistsError)) throw error;
    }
  }
  throw new OnboardingRefusedError(`the Matrix ID ${localparts.length === 1 ? localparts[0] : `${localparts[0]} (and its suffixes up to -${MAX_SUFFIX})`} is taken; give another with --localpart`);
}

/**
 * Creates the Matrix Endpoint and adds it to the role in one transaction; If-Match on the role
 * makes a concurrent edit of it fail the whole transaction instead of being overwritten.
 */
async function linkMatrixEndpoint(fhir: TypedFhirClient, role: PractitionerRole & { id: string }, userId: string, name: string | undefined): Promise<string> {
  const endpointUrl = `urn:uuid:${randomUUID()}`;
  const endpoint: Endpoint = {
    resourceType: 'Endpoint',
    meta: { profile: [CAREHUB_PROFILES.matrixEndpoint] },
    status: 'active',
    connectionType: { system: CAREHUB_ENDPOINT_CONNECTION_SYSTEM, code: MATRIX_CONNECTION_CODE },
    ...(name ? { name: `${name} (Matrix)` } : {}),
    ...(role.organization?.reference ? { managingOrganization: { reference: role.organization.reference } } : {}),
    payloadType: [{ text: 'CareHub referral messages' }],
    address: `matrix:u/${userId}`,
  };
  const linkedRole: PractitionerRole = { ...role, endpoint: [...(role.endpoint ?? []), { reference: endpointUrl }] };
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: endpointUrl, resource: endpoint, request: { method: 'POST', url: 'Endpoint' } },
      {
        resource: linkedRole,
        request: { method: 'PUT', url: `PractitionerRole/${role.id}`, ...(role.meta?.versionId ? { ifMatch: `W/"${role.meta.versionId}"` } : {}) },
      },
    ],
  };
  const response = await fhir.transaction(bundle).catch((error: unknown) => {
    throw fhirFailure('the transaction linking the Endpoint', error);
  });
  const created = response.entry?.[0]?.response?.location?.match(/Endpoint\/([^/]+)/)?.[1] ?? response.entry?.[0]?.resource?.id;
  if (!created) throw new Error('the transaction response names no Endpoint');
  return created;
}

/** Undoes a registration whose linking failed (client-server API `account/deactivate`, password as the auth). */
async function deactivateAccount(homeserverUrl: string, account: RegisteredMatrixUser, password: string): Promise<void> {
  const response = await fetch(new URL('/_matrix/client/v3/account/deactivate', homeserverUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${account.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: account.userId }, password } }),
  });
  if (!response.ok) throw new Error(`deactivating ${account.userId}: HTTP ${response.status}`);
}

/** fhir-kit-client rejects with the HTTP response; this makes an Error naming the OperationOutcome's issues. */
function fhirFailure(what: string, error: unknown): Error {
  const response = (error as { response?: { status?: number; data?: OperationOutcome } }).response;
  if (!response?.status) return error instanceof Error ? error : new Error(`${what}: ${String(error)}`);
  const issues = response.data?.issue?.map((issue) => issue.diagnostics ?? issue.code).join('; ');
  return new Error(`${what}: HTTP ${response.status}${issues ? ` (${issues})` : ''}`);
}
