import type { CareTeam, Reference, Resource, Task } from 'fhir/r4.js';
import { ownerOf } from '../auth/ownership.js';
import { parseReference } from '../fhir/references.js';
import type { Queryable } from '../store/database.js';
import { ANCHOR_TYPES, AUDIT_TYPES, DIRECTORY_TYPES, isPartyData } from './resource-classes.js';
import { referencesIn } from './resource-references.js';

interface Key {
  type: string;
  id: string;
}
interface Grant extends Key {
  organization: string;
}
const keyOf = (resource: Resource): Key => ({ type: resource.resourceType, id: resource.id! });

/** The organisations a directory reference acts for: itself, a role's or a service's organisation, a practitioner's. */
export async function organizationsOf(db: Queryable, references: Array<Reference | undefined>): Promise<string[]> {
  const found = new Set<string>();
  for (const reference of references) {
    const target = parseReference(reference);
    if (!target) continue;
    if (target.type === 'Organization') {
      found.add(`Organization/${target.id}`);
      continue;
    }
    const sql: Record<string, string> = {
      PractitionerRole: `SELECT content -> 'organization' ->> 'reference' AS org FROM resources WHERE resource_type = 'PractitionerRole' AND id = $1 AND NOT deleted`,
      HealthcareService: `SELECT content -> 'providedBy' ->> 'reference' AS org FROM resources WHERE resource_type = 'HealthcareService' AND id = $1 AND NOT deleted`,
      Practitioner: `SELECT content -> 'organization' ->> 'reference' AS org FROM resources
                      WHERE resource_type = 'PractitionerRole' AND NOT deleted AND content @> jsonb_build_object('practitioner', jsonb_build_object('reference', 'Practitioner/' || $1))`,
    };
    const query = sql[target.type];
    if (!query) continue;
    const { rows } = await db.query<{ org: string | null }>(query, [target.id]);
    for (const row of rows) if (row.org?.startsWith('Organization/')) found.add(row.org);
  }
  return [...found];
}

/** The organisations a Task or CareTeam makes parties: its writer, and its requester and owner, or its participants. */
async function anchorParties(db: Queryable, anchor: Resource): Promise<string[]> {
  const references: Array<Reference | undefined> = [];
  if (anchor.resourceType === 'Task') {
    const task = anchor as Task;
    references.push(task.requester, task.owner);
  } else if (anchor.resourceType === 'CareTeam') {
    const team = anchor as CareTeam;
    for (const participant of team.participant ?? []) references.push(participant.member, participant.onBehalfOf);
    references.push(...(team.managingOrganization ?? []));
  }
  const owner = ownerOf(anchor);
  return [...new Set([...(owner ? [owner] : []), ...(await organizationsOf(db, references))])];
}

/** What a Task or CareTeam is about: its patient, its request, its inputs and outputs. */
async function aboutTargets(db: Queryable, anchor: Resource): Promise<Key[]> {
  const references: Array<Reference | undefined> = [];
  if (anchor.resourceType === 'Task') {
    const task = anchor as Task;
    references.push(task.for, task.focus, task.encounter, ...(task.basedOn ?? []), ...(task.partOf ?? []));
    for (const part of [...(task.input ?? []), ...(task.output ?? [])]) references.push(part.valueReference);
  } else if (anchor.resourceType === 'CareTeam') {
    const team = anchor as CareTeam;
    references.push(team.subject, team.encounter);
  }
  const targets = references.map((r) => parseReference(r)).filter((t): t is Key => Boolean(t) && isPartyData(t!.type));
  // A referral's patient is also its request's subject: a Task without `for` still shares the patient.
  const requests = targets.filter((t) => t.type === 'ServiceRequest').map((t) => t.id);
  if (requests.length > 0) {
    const { rows } = await db.query<{ subject: string | null }>(
      `SELECT content -> 'subject' ->> 'reference' AS subject FROM resources WHERE resource_type = 'ServiceRequest' AND id = ANY($1::text[])`,
      [requests],
    );
    for (const row of rows) {
      const subject = parseReference(row.subject ?? undefined);
      if (subject && isPartyData(subject.type)) targets.push(subject);
    }
  }
  return targets;
}

/** Patient data that points at an anchor (a document or message about a referral), as indexed for search. */
async function referrersOf(db: Queryable, anchor: Key): Promise<Key[]> {
  const { rows } = await db.query<{ resource_type: string; id: string }>(
    'SELECT DISTINCT resource_type, id FROM search_reference WHERE target_type = $1 AND target_id = $2',
    [anchor.type, anchor.id],
  );
  return rows.map((r) => ({ type: r.resource_type, id: r.id })).filter((k) => isPartyData(k.type) && !(k.type === anchor.type && k.id === anchor.id));
}

/** The Binaries that DocumentReferences name as their content: a document's bytes go with it. */
async function binariesOf(db: Queryable, keys: Key[], known: Resource[] = []): Promise<Key[]> {
  const ids = keys.filter((k) => k.type === 'DocumentReference').map((k) => k.id);
  if (ids.length === 0) return [];
  const byId = new Map(known.filter((r) => r.resourceType === 'DocumentReference').map((r) => [r.id!, r]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length > 0) {
    const { rows } = await db.query<{ content: Resource }>(`SELECT content FROM resources WHERE resource_type = 'DocumentReference' AND id = ANY($1::text[])`, [missing]);
    for (const row of rows) byId.set(row.content.id!, row.content);
  }
  return ids.flatMap((id) => (byId.get(id) ? referencesIn(byId.get(id)!).filter((r) => r.type === 'Binary') : [])).map(({ type, id }) => ({ type, id }));
}

/** The parties an anchor already has, as its own write granted them. */
async function partiesGrantedBy(db: Queryable, anchors: Key[]): Promise<string[]> {
  if (anchors.length === 0) return [];
  const { rows } = await db.query<{ organization: string }>(
    `SELECT DISTINCT g.organization FROM access_grants g
       JOIN unnest($1::text[], $2::text[]) AS a(type, id) ON g.resource_type = a.type AND g.id = a.id AND g.granted_by_type = a.type AND g.granted_by_id = a.id`,
    [anchors.map((a) => a.type), anchors.map((a) => a.id)],
  );
  return rows.map((r) => r.organization);
}

async function insertGrants(db: Queryable, grants: Grant[], grantedBy: Key[]): Promise<void> {
  if (grants.length === 0) return;
  await db.query(
    `INSERT INTO access_grants (resource_type, id, organization, granted_by_type, granted_by_id)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING`,
    [grants.map((g) => g.type), grants.map((g) => g.id), grants.map((g) => g.organization), grantedBy.map((k) => k.type), grantedBy.map((k) => k.id)],
  );
}

const cross = (keys: Key[], organizations: string[]): Grant[] => keys.flatMap((k) => organizations.map((organization) => ({ ...k, organization })));

/**
 * Rewrites the grants that these freshly stored resources make, inside their write's
 * transaction. Each write replaces only the rows it made before:
 * - its writer's organisation reads it;
 * - a Task or CareTeam makes its parties read it, what it is about (patient, request, inputs,
 *   outputs, and the Binaries of documents among them) and what already points at it;
 * - anything pointing at a Task or CareTeam (a document, a message) is read by that anchor's parties.
 * Directory and audit resources have no grants. A deletion keeps them: history stays readable
 * to the parties it was shared with.
 */
export async function refreshAccessGrants(db: Queryable, resources: Resource[], previous?: Resource): Promise<void> {
  const relevant = resources.filter((r) => r.id && isPartyData(r.resourceType));
  if (relevant.length === 0) return;
  // A new version that points where the last one did, by the same writer, grants the same:
  // a referral's status updates (one per step of its delivery) write no grants.
  if (previous && relevant.length === 1 && accessFootprint(relevant[0]!) === accessFootprint(previous)) return;
  // Anchors first: what points at an anchor written in the same statement must see its parties.
  relevant.sort((a, b) => Number(ANCHOR_TYPES.has(b.resourceType)) - Number(ANCHOR_TYPES.has(a.resourceType)));
  await db.query('DELETE FROM access_grants g USING unnest($1::text[], $2::text[]) AS w(type, id) WHERE g.granted_by_type = w.type AND g.granted_by_id = w.id', [
    relevant.map((r) => r.resourceType),
    relevant.map((r) => r.id),
  ]);
  const pending: Grant[] = [];
  const pendingBy: Key[] = [];
  const add = (grants: Grant[], by: Key) => {
    for (const grant of grants) {
      pending.push(grant);
      pendingBy.push(by);
    }
  };
  for (const resource of relevant) {
    const self = keyOf(resource);
    const owner = ownerOf(resource);
    const selfAndContent = [self, ...(await binariesOf(db, [self], resources))];
    if (owner) add(cross(selfAndContent, [owner]), self);
    if (ANCHOR_TYPES.has(resource.resourceType)) {
      const parties = await anchorParties(db, resource);
      const about = [...(await aboutTargets(db, resource)), ...(await referrersOf(db, self))];
      const shared = [self, ...about, ...(await binariesOf(db, about, resources))];
      // Written at once: resources after it in this write read these rows.
      await insertGrants(db, cross(shared, parties), shared.flatMap(() => parties.map(() => self)));
    }
    const anchors = referencesIn(resource)
      .filter((r) => ANCHOR_TYPES.has(r.type) && !(r.type === self.type && r.id === self.id))
      .map(({ type, id }) => ({ type, id }));
    add(cross(selfAndContent, await partiesGrantedBy(db, anchors)), self);
  }
  await insertGrants(db, pending, pendingBy);
}

/** What a version's grants depend on: its writer, the party data it points at, and (for an anchor) who its parties are. */
function accessFootprint(resource: Resource): string {
  const parties: Array<Reference | undefined> = [];
  if (resource.resourceType === 'Task') parties.push((resource as Task).requester, (resource as Task).owner);
  if (resource.resourceType === 'CareTeam') {
    const team = resource as CareTeam;
    for (const participant of team.participant ?? []) parties.push(participant.member, participant.onBehalfOf);
    parties.push(...(team.managingOrganization ?? []));
  }
  return JSON.stringify([
    ownerOf(resource) ?? null,
    referencesIn(resource).filter((r) => isPartyData(r.type)).map((r) => `${r.type}/${r.id}`),
    parties.map((r) => r?.reference ?? null),
  ]);
}

/**
 * Grants for resources stored before the access_grants table existed, once per database, under
 * the migration's lock so two hubs starting together do it once.
 */
export async function backfillAccessGrants(db: Queryable): Promise<number> {
  const { rows: done } = await db.query('SELECT 1 FROM access_grants_backfill');
  if (done.length > 0) return 0;
  let count = 0;
  for (const anchorsFirst of [true, false]) {
    let after = '';
    for (;;) {
      const { rows } = await db.query<{ content: Resource; key: string }>(
        `SELECT content, resource_type || '/' || id AS key FROM resources
          WHERE NOT deleted AND resource_type <> ALL($1::text[]) AND (resource_type = ANY($2::text[])) = $3 AND resource_type || '/' || id > $4
          ORDER BY resource_type || '/' || id LIMIT 500`,
        [[...DIRECTORY_TYPES, ...AUDIT_TYPES], [...ANCHOR_TYPES], anchorsFirst, after],
      );
      if (rows.length === 0) break;
      await refreshAccessGrants(db, rows.map((r) => r.content));
      count += rows.length;
      after = rows.at(-1)!.key;
    }
  }
  await db.query('INSERT INTO access_grants_backfill DEFAULT VALUES');
  return count;
}
