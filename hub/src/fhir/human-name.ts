import type { HumanName } from 'fhir/r4.js';

/**
 * A person's name as a line of text: the official name (else the first), its `text` if it has
 * one, else prefix, given names and family name in that order. One spelling of a name for
 * confirmations, referral texts and onboarding.
 */
export function humanNameText(names: HumanName[] | undefined): string | undefined {
  const name = names?.find((n) => n.use === 'official') ?? names?.[0];
  if (!name) return undefined;
  return name.text ?? ([...(name.prefix ?? []), ...(name.given ?? []), name.family].filter(Boolean).join(' ') || undefined);
}
