import type { Task } from 'fhir/r4.js';
import { DocumentStore } from '../documents/document-store.js';
import type { Queryable } from '../store/database.js';
import { SubscriptionEndpointPolicy } from '../subscriptions/subscription-criteria.js';
import type { WriteContext } from '../workflow/write-context.js';
import { parseIncomingResource } from './incoming-resource.js';
import { FhirError } from './operation-outcome.js';
import { Validator } from './resource-validator.js';
import { createResource, createResources, updateResource } from './resource-writer.js';

const context: WriteContext = { validator: new Validator(), documents: new DocumentStore(), subscriptionEndpoints: new SubscriptionEndpointPolicy([]) };

/** A database that is never to be reached: any query fails the test. */
const untouchable: Queryable = {
  query: () => {
    throw new Error('the writer queried the database');
  },
} as unknown as Queryable;

/** A database that stops at the first query, to show the writer got that far. */
class ReachedTheStore extends Error {}
const stopsAtFirstQuery: Queryable = {
  query: () => {
    throw new ReachedTheStore();
  },
} as unknown as Queryable;

const task = (extra: Partial<Task> = {}): Task & { id: string } => ({
  resourceType: 'Task',
  id: 'referral-1',
  status: 'received',
  intent: 'order',
  focus: { reference: 'ServiceRequest/sr-1' },
  for: { reference: 'Patient/p-1' },
  requester: { reference: 'Organization/hospital-1' },
  owner: { reference: 'PractitionerRole/gp-1' },
  ...extra,
});

// The bug that made the hub's own writes validated: R4's Annotation.author takes a Practitioner,
// Patient, RelatedPerson or Organization, never a PractitionerRole.
const noteByRole = task({ note: [{ authorReference: { reference: 'PractitionerRole/gp-1' }, text: 'Accepted', time: '2026-12-02T07:00:00Z' }] });

async function refusalOf(write: Promise<unknown>): Promise<FhirError> {
  const error = await write.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof FhirError) return error;
  throw error ?? new Error('the write was accepted');
}

test("the bot's Task update with a note authored by a PractitionerRole is refused before anything is stored", async () => {
  const refusal = await refusalOf(updateResource(context, untouchable, noteByRole));
  expect(refusal.status).toBe(400);
  expect(refusal.issues[0]?.expression?.[0]).toMatch(/^Task\.note\[0\]\.author/);
});

test('a create of an invalid resource is refused before any query', async () => {
  const refusal = await refusalOf(createResource(context, untouchable, { resourceType: 'Communication', status: 'not-a-status' } as never));
  expect(refusal.status).toBe(400);
});

test('a batch of creates with one invalid resource stores none of them', async () => {
  const items = [{ resource: task({ id: undefined } as never) }, { resource: { ...noteByRole, id: undefined } as never }];
  await expect(refusalOf(createResources(context, untouchable, items))).resolves.toMatchObject({ status: 400 });
});

test('a valid resource goes on to the store', async () => {
  await expect(updateResource(context, stopsAtFirstQuery, task())).rejects.toBeInstanceOf(ReachedTheStore);
});

test('a resource parseIncomingResource accepted is not validated a second time', async () => {
  const parsed = parseIncomingResource(context.validator, task());
  // Made invalid after parsing, so only a second validation would notice: the writer goes straight to the store.
  const changed = { ...parsed, status: 'not-a-status' as Task['status'], id: 'referral-1' };
  await expect(updateResource(context, stopsAtFirstQuery, changed, { validated: true })).rejects.toBeInstanceOf(ReachedTheStore);
});
