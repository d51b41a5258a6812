import { FhirError } from '../fhir/operation-outcome.js';
import type { Queryable } from '../store/database.js';

/**
 * A write the hub may refuse (422: no consent, 403, 404), made for a member's bot command: tried
 * under a savepoint, so a refusal leaves the command's transaction usable for the bot's answer.
 */
export async function attemptWrite<T>(client: Queryable, write: () => Promise<T>): Promise<T | FhirError> {
  await client.query('SAVEPOINT member_write');
  try {
    const result = await write();
    await client.query('RELEASE SAVEPOINT member_write');
    return result;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT member_write');
    if (error instanceof FhirError) return error;
    throw error;
  }
}
