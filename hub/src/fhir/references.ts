import type { Reference } from 'fhir/r4.js';
import { FHIR_ID_CHARACTERS } from './fhir-id.js';

/** The parts of a relative literal reference "Type/id" (FHIR R4 references.html#literal). */
export interface ReferenceTarget {
  type: string;
  id: string;
}

const RELATIVE_REFERENCE = new RegExp(`^([A-Za-z]+)/(${FHIR_ID_CHARACTERS})$`);

/** "Type/id" split in two; undefined for absolute URLs, contained (#) or logical references. */
export function parseReference(reference: string | Reference | undefined): ReferenceTarget | undefined {
  const text = typeof reference === 'string' ? reference : reference?.reference;
  const match = text?.match(RELATIVE_REFERENCE);
  return match ? { type: match[1]!, id: match[2]! } : undefined;
}

/** The id in "Type/id" when the reference names a resource of that type (`Task/1` of type Task → "1"). */
export function referencedId(reference: string | Reference | undefined, type: string): string | undefined {
  const target = parseReference(reference);
  return target?.type === type ? target.id : undefined;
}

const BINARY_URL = new RegExp(`(?:^|/)Binary/(${FHIR_ID_CHARACTERS})(?:/_history/\\d+)?$`);

/** Binary/<id> named by an attachment url, relative or absolute (FHIR R4 datatypes.html#Attachment). */
export function binaryIdOfUrl(url: string): string | undefined {
  return BINARY_URL.exec(url)?.[1];
}
