import type { HumanName, Practitioner } from 'fhir/r4.js';
import { humanNameText } from '../../hub/src/fhir/human-name.js';

/** Letters that do not decompose to ASCII under NFKD, written as Nordic and German names are in ASCII. */
const TRANSLITERATION: Record<string, string> = { æ: 'ae', ø: 'oe', å: 'aa', ß: 'ss', þ: 'th', ð: 'd', đ: 'd', ł: 'l', œ: 'oe', ı: 'i' };

/** Localparts the hub makes stay well inside Matrix's 255-byte user ID (spec: appendices, user identifiers). */
const MAX_LOCALPART = 48;

/** Matrix's allowed localpart characters (client-server spec, user identifiers), as CareHub's Endpoint profile has them. */
export const LOCALPART_PATTERN = /^[a-z0-9._=/+-]+$/;

/** The name to go by: the official one, else the usual one, else the first. */
export function nameOfPractitioner(practitioner: Practitioner): HumanName | undefined {
  const names = practitioner.name ?? [];
  return names.find((n) => n.use === 'official') ?? names.find((n) => n.use === 'usual') ?? names[0];
}

/** How the name reads, e.g. "Dr. Karen Jensen" (the hub's one spelling of a name). */
export function displayName(name: HumanName): string {
  return humanNameText([name]) ?? '';
}

/**
 * A Matrix localpart from a person's name, lowercase ASCII words joined by "-":
 * "Dr. Karen Jensen" → dr-karen-jensen, "Søren Kjær" → soeren-kjaer. Undefined when the name
 * has nothing to write that way.
 */
export function localpartFromName(name: HumanName): string | undefined {
  const ascii = displayName(name)
    .toLowerCase()
    .replace(/[æøåßþðđłœı]/g, (letter) => TRANSLITERATION[letter]!)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '');
  const localpart = ascii
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, MAX_LOCALPART)
    .replace(/^-+|-+$/g, '');
  return localpart || undefined;
}
