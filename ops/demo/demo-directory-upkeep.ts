import type { Bundle, Organization, PractitionerRole } from 'fhir/r4.js';
import type { TypedFhirClient } from '../lib/typed-fhir-client.js';
import { DEMO_ORGANIZATION_NUMBERS, DEMO_ORGANIZATION_REGISTER } from './demo-network.js';

/** Every resource of a search, page after page. */
async function everyMatch<T>(fhir: TypedFhirClient, first: Bundle): Promise<T[]> {
  const found: T[] = [];
  for (let page: Bundle | undefined = first; page; page = await fhir.nextPage(page)) {
    found.push(...(page.entry ?? []).map((e) => e.resource as T));
  }
  return found;
}

/**
 * Each demo run seeds the directory afresh, with new Matrix accounts, and the demo's database
 * keeps what earlier runs seeded. A counsellor's directory search would list every earlier run's
 * Dr. Jensen too, under the same label. So the county operator does what it would do for people
 * who left: it sets the earlier runs' organisations and their roles inactive, which takes them
 * out of searches and routing. `keep`: this run's Organization ids. Returns how many roles it retired.
 */
export async function retireEarlierDemoEntries(operator: TypedFhirClient, keep: ReadonlySet<string>): Promise<number> {
  let retiredRoles = 0;
  for (const number of DEMO_ORGANIZATION_NUMBERS) {
    const search = await operator.search('Organization', { identifier: `${DEMO_ORGANIZATION_REGISTER}|${number}`, _count: '100' });
    const earlier = (await everyMatch<Organization & { id: string }>(operator, search)).filter((o) => o.active !== false && !keep.has(o.id));
    for (const organization of earlier) {
      const roles = await everyMatch<PractitionerRole & { id: string }>(operator, await operator.search('PractitionerRole', { organization: `Organization/${organization.id}`, _count: '100' }));
      for (const role of roles.filter((r) => r.active !== false)) {
        await operator.update<PractitionerRole>({ ...role, active: false });
        retiredRoles += 1;
      }
      await operator.update<Organization>({ ...organization, active: false });
    }
  }
  return retiredRoles;
}
