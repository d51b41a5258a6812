import type { CareTeam, Resource, Subscription, Task } from 'fhir/r4.js';
import { isPartyData } from '../access/resource-classes.js';
import { assertCaseConsent } from '../cases/case-consent.js';
import { followConsentChange } from '../cases/follow-consent.js';
import { tellRequester } from '../cases/tell-requester.js';
import { routeStoredReferral } from '../routing/referral-routing-rule.js';
import type { Queryable } from '../store/database.js';
import { addOutboxRow } from '../store/outbox.js';
import * as store from '../store/resource-store.js';
import { SUBSCRIBABLE_TYPES } from '../subscriptions/subscription-criteria.js';
import { queueSubscriptionNotifications } from '../subscriptions/subscription-matching.js';
import { canMove, FINISHED_STATUSES } from '../workflow/task-transitions.js';
import type { WriteContext } from '../workflow/write-context.js';
import { isOpenReferral, writeEffectsOf } from '../workflow/write-effect-plan.js';
import { parseIncomingResource, parseUpdate, type ValidatedResource } from './incoming-resource.js';
import { FhirError, issue } from './operation-outcome.js';

/**
 * The one way a resource is written (decision 0012): validated, stored with its history and
 * search index rows, and what the write sets in motion (`writeEffectsOf`: refusals off the Task
 * state machine, outbox rows, subscriber notifications) run in the caller's transaction, so the
 * change and the work it causes commit or roll back together. Every writer uses it: the FHIR
 * API, Bundles, $process-message, the delivery records, the bot's updates from rooms, documents.
 * The access policy is the caller's, before it writes. The hub's configured parts (its
 * validator, the Subscription endpoint policy) come with each write as a WriteContext, made at
 * wiring (startHub).
 */

/** Whether the caller vouches that the resource passed parseIncomingResource (only a ValidatedResource may). */
type ValidationClaim<R> = R extends ValidatedResource ? { validated?: boolean } : { validated?: false };

export interface WriteOptions {
  /** Where the resource sits in the request, for the paths refusals name (`Bundle.entry[2].resource`); its type by default. */
  entryPath?: string;
  /** Run the effects with those of the other writes of a transaction Bundle, not at once (DeferredEffects). */
  deferTo?: { effects: DeferredEffects; key: number };
}

export interface NewResource<R extends Resource> {
  resource: R;
  /** Only for ids the hub assigned (store.createResources); otherwise the store picks one. */
  id?: string | undefined;
  entryPath?: string;
  /** The entry the write belongs to, when its effects are deferred (createResources' `deferTo`). */
  deferKey?: number;
}

interface StoredWrite {
  stored: Resource;
  previous: Resource | undefined;
  entryPath: string;
}

const deferredWrites = new WeakMap<DeferredEffects, Map<number, StoredWrite[]>>();

/**
 * The effects of the writes of one transaction Bundle, run once every entry is stored: a
 * referral's Task may point at a role an entry after it creates. Each write is recorded under
 * its entry's index; `runFor(index)` runs that entry's effects, so a refusal can name its entry.
 */
export class DeferredEffects {
  constructor(
    private readonly context: WriteContext,
    private readonly db: Queryable,
  ) {
    deferredWrites.set(this, new Map());
  }

  /** Runs the effects of the writes recorded under `key`, in the order they were written, once. */
  async runFor(key: number): Promise<void> {
    const writes = deferredWrites.get(this)!;
    const recorded = writes.get(key) ?? [];
    writes.delete(key);
    for (const write of recorded) await applyWriteEffects(this.context, this.db, write.stored, write.entryPath, write.previous);
  }
}

async function afterStore(context: WriteContext, db: Queryable, write: StoredWrite, deferTo: WriteOptions['deferTo']): Promise<void> {
  if (!deferTo) {
    await applyWriteEffects(context, db, write.stored, write.entryPath, write.previous);
    return;
  }
  const writes = deferredWrites.get(deferTo.effects)!;
  writes.set(deferTo.key, [...(writes.get(deferTo.key) ?? []), write]);
}

/**
 * Refuses (400/422, before any query) a resource the hub may not store, as parseIncomingResource
 * would refuse it from a client: the hub's own writes must be valid R4 and meet its profiles too.
 * A stored id the FHIR id pattern refuses is set aside, as for a client's update (decision 0003).
 */
function assertStorable({ validator }: WriteContext, resource: Resource): void {
  if (resource.id === undefined) parseIncomingResource(validator, resource, resource.resourceType);
  else parseUpdate(validator, resource, resource.resourceType, resource.id);
}

/**
 * Whether a write of this resource can have effects beyond storing it (and so needs a
 * transaction): patient data always has, since its access grants are written with it.
 */
export function hasWriteEffects(resource: Resource): boolean {
  return isPartyData(resource.resourceType) || SUBSCRIBABLE_TYPES.has(resource.resourceType);
}

/**
 * Creates resources as version 1 (store.createResources: a few statements for any number), then
 * runs each one's effects. Validated first, all of them, unless the caller vouches for them.
 */
export async function createResources<R extends Resource>(
  context: WriteContext,
  db: Queryable,
  items: Array<NewResource<R>>,
  options: ValidationClaim<R> & { deferTo?: DeferredEffects } = {} as ValidationClaim<R> & { deferTo?: DeferredEffects },
): Promise<Array<R & { id: string }>> {
  if (!options.validated) for (const { resource } of items) assertStorable(context, resource);
  const stored = await store.createResources(db, items);
  for (const [index, resource] of stored.entries()) {
    const item = items[index]!;
    const deferTo = options.deferTo ? { effects: options.deferTo, key: item.deferKey ?? index } : undefined;
    await afterStore(context, db, { stored: resource, previous: undefined, entryPath: item.entryPath ?? resource.resourceType }, deferTo);
  }
  return stored as Array<R & { id: string }>;
}

/** One create; see createResources. `id` only for an id the hub assigned. */
export async function createResource<R extends Resource>(
  context: WriteContext,
  db: Queryable,
  resource: R,
  options: ValidationClaim<R> & WriteOptions & { id?: string } = {} as ValidationClaim<R> & WriteOptions & { id?: string },
): Promise<R & { id: string }> {
  if (!options.validated) assertStorable(context, resource);
  const stored = (await store.createResource(db, resource, options.id)) as R & { id: string };
  await afterStore(context, db, { stored, previous: undefined, entryPath: options.entryPath ?? resource.resourceType }, options.deferTo);
  return stored;
}

/**
 * A new version (store.updateResource: locked, If-Match, update as create), then its effects,
 * which see the version before it. Must run inside a transaction.
 */
export async function updateResource<R extends Resource & { id: string }>(
  context: WriteContext,
  db: Queryable,
  resource: R,
  options: ValidationClaim<R> & WriteOptions & { ifMatch?: string | undefined; guard?: store.WriteGuard } = {} as ValidationClaim<R>,
): Promise<store.UpdateResult<R>> {
  if (!options.validated) assertStorable(context, resource);
  const result = await store.updateResource(db, resource, { ifMatch: options.ifMatch, ...(options.guard ? { guard: options.guard } : {}) });
  await afterStore(context, db, { stored: result.resource, previous: result.previous, entryPath: options.entryPath ?? resource.resourceType }, options.deferTo);
  return result;
}

/**
 * Deletes a resource (store.deleteResource: a version marked deleted, its index rows gone).
 * A delete sets nothing in motion (decision 0012): no outbox row, no subscriber notification.
 */
export async function deleteResource(db: Queryable, type: string, id: string, guard?: store.WriteGuard): Promise<string | undefined> {
  return store.deleteResource(db, type, id, guard);
}

/** A Task may only move along the FHIR state machine, whoever writes it (FHIR R4 task.html#statemachine). */
function assertTaskTransition(stored: Task, previous: Task | undefined, entryPath: string): void {
  if (!previous || canMove(previous.status, stored.status)) return;
  throw new FhirError(409, [
    issue('business-rule', `Task/${stored.id} is ${previous.status}; it cannot become ${stored.status} (FHIR Task state machine)`, [`${entryPath}.status`]),
  ]);
}

/** The ServiceRequest changed: each referral still open shows its current version (an m.replace edit). */
async function announceServiceRequestEdit(db: Queryable, serviceRequestId: string): Promise<void> {
  const tasks = await store.findResourcesContaining<Task & { id: string }>(db, 'Task', { focus: { reference: `ServiceRequest/${serviceRequestId}` } });
  for (const task of tasks) {
    if (!FINISHED_STATUSES.has(task.status)) await addOutboxRow(db, 'referral.edit', { taskId: task.id });
  }
}

/** A document newly linked to an open referral goes into the referral's room. */
async function sendDocumentToReferral(db: Queryable, documentId: string, taskId: string): Promise<void> {
  const task = await store.findResource<Task>(db, 'Task', taskId);
  if (!task || !isOpenReferral(task)) return;
  await addOutboxRow(db, 'document.deliver', { taskId, documentReferenceId: documentId });
}

/**
 * Everything a stored write sets in motion (`writeEffectsOf`), run inside the write's
 * transaction. Private to the writer: a write without its effects cannot be made elsewhere.
 */
async function applyWriteEffects(context: WriteContext, db: Queryable, stored: Resource, entryPath: string, previous?: Resource): Promise<void> {
  for (const effect of writeEffectsOf(stored as Resource & { id: string }, previous)) {
    switch (effect.kind) {
      case 'check-subscription':
        context.subscriptionEndpoints.assertSupported(stored as Subscription);
        break;
      case 'check-task-transition':
        assertTaskTransition(stored as Task, previous as Task | undefined, entryPath);
        break;
      case 'route-referral':
        await routeStoredReferral(db, stored, entryPath, previous);
        break;
      case 'room-notice':
        await addOutboxRow(db, 'room.notice', effect.payload);
        break;
      case 'edit-open-referrals':
        await announceServiceRequestEdit(db, effect.serviceRequestId);
        break;
      case 'send-document':
        await sendDocumentToReferral(db, effect.documentReferenceId, effect.taskId);
        break;
      case 'check-case-consent':
        await assertCaseConsent(db, stored as CareTeam, previous as CareTeam | undefined, entryPath);
        break;
      case 'settle-case':
        await addOutboxRow(db, 'case.settle', { careTeamId: effect.careTeamId });
        break;
      case 'tell-requester':
        await tellRequester(db, stored as Task & { id: string });
        break;
      case 'export-case':
        await addOutboxRow(db, 'case.export', { careTeamId: effect.careTeamId });
        break;
      case 'post-communication':
        await addOutboxRow(db, 'communication.post', effect.payload);
        break;
      case 'schedule-meeting':
        await addOutboxRow(db, 'case.meeting', effect.payload);
        break;
      case 'follow-consent':
        await followConsentChange(context, db, effect.patient);
        break;
      case 'notify-subscribers':
        await queueSubscriptionNotifications(db, stored as Resource & { id: string });
        break;
    }
  }
}
