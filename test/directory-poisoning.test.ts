import type { Bundle, PractitionerRole, Task } from 'fhir/r4.js';
import { OWNER_TAG_SYSTEM } from '../hub/src/auth/ownership.js';
import { createResource } from '../hub/src/store/resource-store.js';
import { GpMatrixClient } from '../ops/lib/gp-matrix-client.js';
import { entry, matrixEndpoint } from './support/fhir-fixtures.js';
import { startAuthHub, type AuthHub, type Integrator } from './support/auth-hub.js';
import { SubscriberEndpoint } from './support/subscriber-endpoint.js';
import { registerTestUser, stack } from './support/test-stack.js';
import { waitFor } from './support/wait-for.js';

// Directory poisoning, end to end on the real stack: organisation B tries to make the GP
// practice's referrals reach a Matrix user of its own. B's writes are refused; even an entry
// planted in the database past the API does not get B's user invited; A's referral reaches
// only the practice's own GP, whose client decrypts it.
let hubStack: AuthHub;
let operator: Integrator;
let a: Integrator;
let b: Integrator;
let gp: GpMatrixClient;
let intruder: GpMatrixClient;
let aHook: SubscriberEndpoint;
let bHook: SubscriberEndpoint;
const ids: Record<string, string> = {};


beforeAll(async () => {
  hubStack = await startAuthHub(['api', 'outbox-relay', 'delivery']);
  gp = await GpMatrixClient.start(stack.homeserverUrl, await registerTestUser('gp-berg'));
  intruder = await GpMatrixClient.start(stack.homeserverUrl, await registerTestUser('intruder'));
  operator = await hubStack.integrator('county-operator', 'Organization/county', { roles: ['operator'] });
  const directory = await operator.request('POST', '', {
    body: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        entry('urn:uuid:e0000000-0000-4000-8000-000000000001', { resourceType: 'Organization', name: 'Clinic A', active: true }),
        entry('urn:uuid:e0000000-0000-4000-8000-000000000002', { resourceType: 'Organization', name: 'Organisation B', active: true }),
        entry('urn:uuid:e0000000-0000-4000-8000-000000000003', { resourceType: 'Organization', name: 'Fjordvej GP Practice', active: true }),
        entry('urn:uuid:e0000000-0000-4000-8000-000000000004', matrixEndpoint(gp.userId, 'urn:uuid:e0000000-0000-4000-8000-000000000003')),
        entry('urn:uuid:e0000000-0000-4000-8000-000000000005', {
          resourceType: 'PractitionerRole',
          active: true,
          organization: { reference: 'urn:uuid:e0000000-0000-4000-8000-000000000003' },
          endpoint: [{ reference: 'urn:uuid:e0000000-0000-4000-8000-000000000004' }],
        }),
      ],
    } satisfies Bundle,
  });
  expect(directory.status).toBe(200);
  const [clinicA, orgB, practice] = (directory.body as Bundle).entry!.slice(0, 3).map((e) => `Organization/${e.resource!.id}`) as [string, string, string];
  Object.assign(ids, { clinicA, orgB, practice });
  a = await hubStack.integrator('clinic-a', clinicA);
  b = await hubStack.integrator('org-b', orgB);
  // Both watch the practice's Tasks with rest-hooks that carry the resource.
  [aHook, bHook] = [await SubscriberEndpoint.start(), await SubscriberEndpoint.start()];
  for (const [who, hook] of [[a, aHook], [b, bHook]] as const) {
    const subscription = await who.request('POST', 'Subscription', {
      body: { resourceType: 'Subscription', status: 'requested', reason: 'referrals to the practice', criteria: `Task?owner=${practice}`, channel: { type: 'rest-hook', endpoint: hook.url.replace(/\/fhir-hook$/, ''), payload: 'application/fhir+json' } },
    });
    expect(subscription.status).toBe(201);
  }
});

afterAll(async () => {
  gp?.stop();
  intruder?.stop();
  await aHook?.stop();
  await bHook?.stop();
  await hubStack?.stop();
});

test("B's poisoning writes are refused; A's referral to the practice invites only the practice's own GP, who reads it", async () => {
  // B's own Endpoint for its own Matrix user is fine; naming the GP practice in a role is not.
  const endpoint = await b.request('POST', 'Endpoint', { body: matrixEndpoint(intruder.userId) });
  expect(endpoint.status).toBe(201);
  const role = await b.request('POST', 'PractitionerRole', {
    body: { resourceType: 'PractitionerRole', active: true, organization: { reference: ids['practice'] }, endpoint: [{ reference: `Endpoint/${endpoint.body.id}` }] },
  });
  expect(role.status).toBe(403);
  expect(role.body.issue[0].expression).toEqual(['PractitionerRole.organization']);
  // The same entry planted past the API (as data stored before the policy could have been):
  // an Endpoint of B's never serves the practice.
  await createResource<PractitionerRole>(hubStack.hub.db, {
    resourceType: 'PractitionerRole',
    active: true,
    meta: { tag: [{ system: OWNER_TAG_SYSTEM, code: ids['orgB']! }] },
    organization: { reference: ids['practice']! },
    endpoint: [{ reference: `Endpoint/${endpoint.body.id}` }],
  });

  const referral = await a.request('POST', '', {
    body: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        entry('urn:uuid:f0000000-0000-4000-8000-000000000001', { resourceType: 'Patient', name: [{ family: 'Hansen', given: ['Inge'] }], birthDate: '1939-07-02' }),
        entry('urn:uuid:f0000000-0000-4000-8000-000000000002', {
          resourceType: 'ServiceRequest',
          status: 'active',
          intent: 'order',
          code: { text: 'Wound check' },
          reasonCode: [{ text: 'Leg ulcer, dressing change' }],
          subject: { reference: 'urn:uuid:f0000000-0000-4000-8000-000000000001' },
          requester: { reference: ids['clinicA']! },
        }),
        entry('urn:uuid:f0000000-0000-4000-8000-000000000003', {
          resourceType: 'Task',
          status: 'requested',
          intent: 'order',
          focus: { reference: 'urn:uuid:f0000000-0000-4000-8000-000000000002' },
          for: { reference: 'urn:uuid:f0000000-0000-4000-8000-000000000001' },
          requester: { reference: ids['clinicA']! },
          owner: { reference: ids['practice']! },
        }),
      ],
    } satisfies Bundle,
  });
  expect(referral.status).toBe(200);
  const taskId = (referral.body as Bundle).entry!.find((e) => e.resource?.resourceType === 'Task')!.resource!.id!;

  const message = await gp.waitForReferral(taskId);
  expect(message.getContent()['body']).toContain('Inge Hansen');
  const room = gp.client.getRoom(message.getRoomId()!)!;
  const members = room.getMembers().filter((m) => ['join', 'invite'].includes(m.membership ?? '')).map((m) => m.userId).sort();
  expect(members).toEqual([hubStack.hub.bot!.client.getUserId(), gp.userId].sort());
  expect(intruder.client.getRoom(message.getRoomId()!)).toBeNull();
  await waitFor(async () => {
    const task = (await a.request('GET', `Task/${taskId}`)).body as Task;
    return task.businessStatus?.coding?.[0]?.code === 'delivered' ? task : undefined;
  }, 'the Task to record its delivery');
  expect((await b.request('GET', `Task/${taskId}`)).status).toBe(404);
  // A's rest-hook hears of its referral (created, then delivered); B's, with the same criteria, hears nothing.
  await waitFor(async () => (aHook.resourcesFor<Task>('Task', taskId).some((t) => t.businessStatus?.coding?.[0]?.code === 'delivered') ? true : undefined), "A's rest-hook to hear of the delivery");
  expect(bHook.received).toEqual([]);
  expect(JSON.stringify(bHook.received)).not.toContain('Hansen');
});
