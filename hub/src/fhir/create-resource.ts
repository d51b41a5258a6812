import type { Resource } from 'fhir/r4.js';
import { routeStoredReferral } from '../routing/referral-routing-rule.js';
import { inTransaction, type Database } from '../store/database.js';
import { createResource } from '../store/resource-store.js';

/** FHIR create (POST [base]/[type]): store version 1, and any delivery it asks for, in one transaction. */
export async function createOne(db: Database, resource: Resource): Promise<Resource> {
  return inTransaction(db, async (client) => {
    const stored = await createResource(client, resource);
    await routeStoredReferral(client, stored, stored.resourceType);
    return stored;
  });
}
