import type { HealthcareService, Organization, Practitioner, PractitionerRole } from 'fhir/r4.js';
import { humanNameText } from '../fhir/human-name.js';
import { resolveMatrixRecipients } from '../routing/resolve-matrix-recipients.js';
import type { Queryable } from '../store/database.js';

/** A directory entry a counsellor may invite or refer to, as the bot lists it. */
export interface DirectoryChoice {
  /** "PractitionerRole/…", "Organization/…" or "HealthcareService/…". */
  ref: string;
  label: string;
}

const MAX_WORDS = 5;
const MAX_CHOICES = 9;

const likePattern = (word: string) => `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
const textOf = (concepts: Array<{ text?: string; coding?: Array<{ display?: string }> }> | undefined) =>
  (concepts ?? []).map((c) => c.text ?? c.coding?.[0]?.display).filter(Boolean).join(', ');

/**
 * The directory's people, organisations and services that match every word of `query` in a
 * name, role, specialty, organisation or city, and that someone on Matrix can be reached at:
 * at most nine, people first. The directory is what every network member reads (the access
 * policy), so nothing here is another organisation's own data.
 */
export async function searchDirectory(db: Queryable, query: string): Promise<DirectoryChoice[]> {
  const words = query.toLowerCase().split(/\s+/).filter((w) => w.length > 1).slice(0, MAX_WORDS);
  if (words.length === 0) return [];
  const conditions = words.map((_, i) => `haystack LIKE $${i + 1}`).join(' AND ');
  const { rows } = await db.query<{ ref: string; kind: string; content: unknown; person: Practitioner | null; organization: Organization | null }>(
    `WITH candidates AS (
       SELECT 'PractitionerRole/' || r.id AS ref, 1 AS kind, r.content, p.content AS person, o.content AS organization,
              lower(concat_ws(' ', p.content -> 'name', r.content -> 'code', r.content -> 'specialty', o.content ->> 'name', o.content -> 'address', o.content -> 'type')) AS haystack
         FROM resources r
         LEFT JOIN resources p ON p.resource_type = 'Practitioner' AND NOT p.deleted AND r.content -> 'practitioner' ->> 'reference' = 'Practitioner/' || p.id
         LEFT JOIN resources o ON o.resource_type = 'Organization' AND NOT o.deleted AND r.content -> 'organization' ->> 'reference' = 'Organization/' || o.id
        WHERE r.resource_type = 'PractitionerRole' AND NOT r.deleted AND coalesce(r.content ->> 'active', 'true') <> 'false'
       UNION ALL
       SELECT 'Organization/' || o.id, 2, o.content, NULL, o.content,
              lower(concat_ws(' ', o.content ->> 'name', o.content -> 'alias', o.content -> 'type', o.content -> 'address'))
         FROM resources o WHERE o.resource_type = 'Organization' AND NOT o.deleted AND coalesce(o.content ->> 'active', 'true') <> 'false'
       UNION ALL
       SELECT 'HealthcareService/' || s.id, 3, s.content, NULL, o.content,
              lower(concat_ws(' ', s.content ->> 'name', s.content -> 'type', s.content -> 'specialty', s.content -> 'category', o.content ->> 'name', o.content -> 'address'))
         FROM resources s
         LEFT JOIN resources o ON o.resource_type = 'Organization' AND NOT o.deleted AND s.content -> 'providedBy' ->> 'reference' = 'Organization/' || o.id
        WHERE s.resource_type = 'HealthcareService' AND NOT s.deleted AND coalesce(s.content ->> 'active', 'true') <> 'false'
     )
     SELECT ref, kind::text, content, person, organization FROM candidates WHERE ${conditions} ORDER BY kind, ref LIMIT 50`,
    words.map(likePattern),
  );
  const choices: DirectoryChoice[] = [];
  for (const row of rows) {
    if (choices.length >= MAX_CHOICES) break;
    if ((await resolveMatrixRecipients(db, { reference: row.ref })).length === 0) continue;
    const city = row.organization?.address?.[0]?.city;
    const where = [row.organization?.name, city].filter(Boolean).join(', ');
    let label: string;
    if (row.kind === '1') {
      const role = row.content as PractitionerRole;
      const what = textOf([...(role.code ?? []), ...(role.specialty ?? [])]);
      label = `${humanNameText(row.person?.name) ?? 'A practitioner'} — ${where || 'no organisation'}${what ? ` (${what})` : ''}`;
    } else if (row.kind === '2') {
      label = `${where} (the organisation: all its members on Matrix)`;
    } else {
      label = `${(row.content as HealthcareService).name ?? 'A service'} — ${where} (the service: all its members on Matrix)`;
    }
    choices.push({ ref: row.ref, label });
  }
  return choices;
}
