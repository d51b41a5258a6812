import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, Consent, FhirResource, Patient } from 'fhir/r4.js';
import { GpMatrixClient } from '../../ops/lib/gp-matrix-client.js';
import { NioGpClient } from '../../ops/lib/nio-gp-client.js';
import { openSynapseAdminSession, type SynapseAdminSession } from '../../ops/lib/synapse-admin-session.js';
import { readRegistrationSecret } from '../../ops/stack-info.js';
import { startAuthHub, type AuthHub, type Integrator } from './auth-hub.js';
import { entry, matrixEndpoint } from './fhir-fixtures.js';
import { registerTestUser, stack } from './test-stack.js';
import { waitFor } from './wait-for.js';

/**
 * How a member of the network is in the case's rooms: `matrix-js` a matrix-js-sdk login of their
 * own (GpMatrixClient), `nio` matrix-nio with libolm (NioGpClient), `none` an account in the
 * directory that no client runs (someone the test only names).
 */
export type MemberClient = 'matrix-js' | 'nio' | 'none';

/** One person of the care network: a Matrix account, and an organisation with one PractitionerRole in the directory. */
export interface MemberPlan {
  client: MemberClient;
  /** The start of the account's localpart (registerTestUser adds a random suffix). */
  localpart: string;
  /** The organisation's name in the directory (the room shows it, e.g. on an integrator's Communication). */
  organization: string;
  /** "Given Family": the Practitioner's name. */
  person: string;
  /** The PractitionerRole's `code` text, if it has one. */
  roleText?: string;
}

type ClientOf<C extends MemberClient> = C extends 'matrix-js' ? GpMatrixClient : C extends 'nio' ? NioGpClient : undefined;

/** A member once the network runs: their account, client and directory entries. */
export interface NetworkMember<C extends MemberClient = MemberClient> {
  userId: string;
  client: ClientOf<C>;
  /** "Organization/<id>" */
  organization: string;
  /** "PractitionerRole/<id>": what a CareTeam or an Appointment names them by. */
  role: string;
}

export interface CaseNetworkPlan<M extends Record<string, MemberPlan>> {
  /** Names the operators' Synapse admin account: `<name>-admin-<ms>`. */
  name: string;
  /** The hub's `cases` options (time zone, clock, meetings...). */
  cases: Record<string, unknown>;
  /**
   * Hands the hub the operators' Synapse admin token (`cases.synapseAdminTokenFile`), so it
   * purges closed case rooms from the homeserver. Off: the hub has no admin token.
   */
  hubHasAdminToken?: boolean;
  /** Everyone in the network, in the directory's order. */
  members: M;
  /** The member whose organisation runs the case system (the integrator `office`, and the Consent's custodian). */
  office: keyof M & string;
}

/** A state event as the homeserver stores it. */
export interface StoredStateEvent {
  type: string;
  state_key: string;
  content: Record<string, unknown>;
}

export interface CaseNetwork<M extends Record<string, MemberPlan>> {
  hub: AuthHub;
  botUserId: string;
  /** The operators' Synapse admin session, to read what the homeserver stores. */
  admin: SynapseAdminSession;
  /** The counselling office's case system: the SMART client that opens cases by FHIR. */
  office: Integrator;
  members: { [K in keyof M]: NetworkMember<M[K]['client']> };
  /** Posts a Patient from the office; resolves with "Patient/<id>". */
  createPatient(person: { given: string; family: string; birthDate: string }): Promise<string>;
  /** An active opt-in Consent of `patient`, kept by the office, that permits sharing with `organizations` ("Organization/<id>"). */
  consent(patient: string, organizations: string[]): Consent;
  /** Waits until the hub has made the CareTeam's room; resolves with its room id. */
  caseRoom(careTeamId: string): Promise<string>;
  /** A GET of the Synapse admin API (or any Client-Server path) with the admin's token. */
  adminGet<T>(path: string): Promise<T>;
  /** The room's state as the homeserver stores it (Synapse admin API), not as any client renders it. */
  roomState(roomId: string): Promise<StoredStateEvent[]>;
  /** Stops the clients, closes the admin session and stops the hub (dropping its database). */
  stop(): Promise<void>;
}

/**
 * A care network for case-room stack tests: a hub with the API, relay and delivery (key sharing
 * "all": nio has no cross-signing, so it could not be verified), the operators' Synapse admin
 * session, each member's Matrix account and client, the directory the county's operator loads
 * (per member an Organization, a Practitioner, a Matrix Endpoint and a PractitionerRole), and
 * the office's case system as an integrator. Cases themselves (Patient, Consent, CareTeam) are
 * the test's story; `createPatient`, `consent` and `caseRoom` help tell it.
 *
 * ```ts
 * const MEMBERS = {
 *   counsellor: { client: 'matrix-js', localpart: 'counsellor-x', organization: 'Pflegestützpunkt Nord', person: 'Maren Voss' },
 *   gp: { client: 'nio', localpart: 'gp-x', organization: 'Praxis Dr. Berg', person: 'Jonas Berg' },
 * } as const satisfies Record<string, MemberPlan>;
 * let network: CaseNetwork<typeof MEMBERS>;
 * beforeAll(async () => {
 *   network = await startCaseNetwork({ name: 'guest', cases: { timeZone: 'UTC', clockSeconds: 1 }, members: MEMBERS, office: 'counsellor' });
 * }, 240_000);
 * afterAll(() => network?.stop(), 240_000);
 * // network.members.gp.client (a NioGpClient), network.members.gp.role ("PractitionerRole/…"),
 * // network.office.request('POST', 'CareTeam', …), network.caseRoom(careTeamId)
 * ```
 *
 * Someone outside the directory (a guest) is not a member: register them with registerTestUser,
 * start their client, and stop it in the test's own afterAll.
 */
export async function startCaseNetwork<const M extends Record<string, MemberPlan>>(plan: CaseNetworkPlan<M>): Promise<CaseNetwork<M>> {
  const started: { admin?: SynapseAdminSession; hub?: AuthHub; clients: Array<GpMatrixClient | NioGpClient> } = { clients: [] };
  const stop = async () => {
    for (const client of started.clients) if (client instanceof GpMatrixClient) client.stop();
    for (const client of started.clients) if (client instanceof NioGpClient) await client.stop();
    await started.admin?.close();
    await started.hub?.stop();
  };
  try {
    const adminDir = mkdtempSync(join(tmpdir(), `carehub-${plan.name}-admin-`));
    const admin = await openSynapseAdminSession({ homeserverUrl: stack.homeserverUrl, sharedSecret: readRegistrationSecret(stack), localpart: `${plan.name}-admin-${Date.now()}`, passwordFile: join(adminDir, 'password') });
    started.admin = admin;
    const cases = { ...plan.cases };
    if (plan.hubHasAdminToken) {
      const synapseAdminTokenFile = join(adminDir, 'token');
      writeFileSync(synapseAdminTokenFile, admin.accessToken, { mode: 0o600 });
      cases['synapseAdminTokenFile'] = synapseAdminTokenFile;
    }
    const hub = await startAuthHub(['api', 'outbox-relay', 'delivery'], { cases }, (config) => ({ ...config, matrix: { ...config.matrix, keySharing: 'all' } }));
    started.hub = hub;
    const botUserId = hub.hub.bot!.client.getUserId()!;

    const keys = Object.keys(plan.members) as Array<keyof M & string>;
    const users = await Promise.all(keys.map((key) => registerTestUser(plan.members[key]!.localpart)));
    const clients: Array<GpMatrixClient | NioGpClient | undefined> = [];
    for (const [index, key] of keys.entries()) {
      const user = users[index]!;
      const kind = plan.members[key]!.client;
      const client = kind === 'matrix-js' ? await GpMatrixClient.start(stack.homeserverUrl, user) : kind === 'nio' ? await NioGpClient.start(user, stack) : undefined;
      if (client) started.clients.push(client);
      clients.push(client);
    }

    // The county's operator loads the network's directory: each member's organisation, with one person on Matrix.
    const operator = await hub.integrator('county-operator', 'Organization/county', { roles: ['operator'] });
    const entries = keys.flatMap((key, index) => {
      const { organization, person, roleText } = plan.members[key]!;
      const urn = (n: number) => `urn:uuid:ca5e0000-0000-4000-8000-00000000${index}${n}00`;
      const [given, family] = person.split(' ') as [string, string];
      return [
        entry(urn(1), { resourceType: 'Organization', active: true, name: organization }),
        entry(urn(2), { resourceType: 'Practitioner', active: true, name: [{ given: [given], family }] }),
        entry(urn(3), matrixEndpoint(users[index]!.userId, urn(1))),
        entry(urn(4), { resourceType: 'PractitionerRole', active: true, practitioner: { reference: urn(2) }, organization: { reference: urn(1) }, endpoint: [{ reference: urn(3) }], ...(roleText ? { code: [{ text: roleText }] } : {}) } as FhirResource),
      ];
    });
    const directory = await operator.request('POST', '', { body: { resourceType: 'Bundle', type: 'transaction', entry: entries } satisfies Bundle });
    expect(directory.status).toBe(200);
    const created = (directory.body as Bundle).entry!.map((e) => e.resource!);
    const members = Object.fromEntries(
      keys.map((key, index) => [key, { userId: users[index]!.userId, client: clients[index], organization: `Organization/${created[index * 4]!.id}`, role: `PractitionerRole/${created[index * 4 + 3]!.id}` }]),
    ) as CaseNetwork<M>['members'];
    const officeOrganization = members[plan.office].organization;
    const office = await hub.integrator('office-case-system', officeOrganization);

    const adminGet = async <T>(path: string): Promise<T> => {
      const response = await fetch(new URL(path, stack.homeserverUrl), { headers: { authorization: `Bearer ${admin.accessToken}` } });
      if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
      return (await response.json()) as T;
    };
    return {
      hub,
      botUserId,
      admin,
      office,
      members,
      async createPatient({ given, family, birthDate }) {
        const patient: Patient = { resourceType: 'Patient', name: [{ given: [given], family }], birthDate };
        const answer = await office.request('POST', 'Patient', { body: patient });
        expect(answer.status).toBe(201);
        return `Patient/${answer.body.id}`;
      },
      consent(patient, organizations) {
        return {
          resourceType: 'Consent',
          status: 'active',
          scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
          category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
          patient: { reference: patient },
          dateTime: new Date(Date.now() - 60_000).toISOString(),
          organization: [{ reference: officeOrganization }],
          policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
          provision: {
            type: 'permit',
            actor: organizations.map((reference) => ({ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { reference } })),
          },
        };
      },
      caseRoom(careTeamId) {
        return waitFor(async () => {
          const { rows } = await hub.hub.db.query<{ room_id: string | null }>('SELECT room_id FROM case_rooms WHERE care_team_id = $1', [careTeamId]);
          return rows[0]?.room_id ?? undefined;
        }, 'the case room');
      },
      adminGet,
      async roomState(roomId) {
        return (await adminGet<{ state: StoredStateEvent[] }>(`/_synapse/admin/v1/rooms/${encodeURIComponent(roomId)}/state`)).state;
      },
      stop,
    };
  } catch (error) {
    // A start cut short: stop what did start, and report why it was cut short.
    await stop().catch(() => undefined);
    throw error;
  }
}
