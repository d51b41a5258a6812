import { badRequest } from './operation-outcome.js';

/** The characters of a FHIR id, without anchors, for patterns that embed one ("Type/id"). */
export const FHIR_ID_CHARACTERS = '[A-Za-z0-9\\-.]{1,64}';

/** FHIR ids: 1–64 of A–Z, a–z, 0–9, "-" and "." (FHIR R4 datatypes.html#id). */
const FHIR_ID = new RegExp(`^${FHIR_ID_CHARACTERS}$`);

export function isFhirId(id: unknown): id is string {
  return typeof id === 'string' && FHIR_ID.test(id);
}

/**
 * Whether some version of the hub could have stored a resource under `id`: every FHIR id, and
 * the ids earlier hubs stored before they checked them (PUT Patient/bad-id_1; decision 0003),
 * which is any text Postgres holds (no NUL) that arrived well-formed. Only a lookup of what is
 * already stored may use an id this allows and isFhirId does not.
 */
export function couldBeStoredId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && !id.includes('\u0000') && id.isWellFormed();
}

/** How a refused id is shown back: quoted, and cut short so a huge id does not make a huge answer; with its length. */
export function shownId(id: unknown): string {
  if (typeof id !== 'string') return `a ${id === null ? 'null' : typeof id}`;
  return `${JSON.stringify(id.length > 70 ? `${id.slice(0, 64)}…` : id)} (${id.length} characters)`;
}


/**
 * Refuses (400) anything that is not a FHIR id, naming the element (`expression`, e.g.
 * "Patient.id" or "Patient.contained[0].id") and, in words, where it was sent (`where`, e.g.
 * "the [id] in the URL"): the hub never stores, or looks up, a resource under an id another
 * FHIR server could not hold or a URL could not carry.
 */
export function assertFhirId(id: unknown, expression: string, where = expression): asserts id is string {
  if (isFhirId(id)) return;
  throw badRequest(`${where} ${shownId(id)} is not a FHIR id: 1 to 64 of A-Z, a-z, 0-9, "-" and "."`, [expression]);
}
