import type { Period } from 'fhir/r4.js';

// FHIR R4 Period (datatypes.html#Period) as CareHub reads it, for Consents and CareTeam
// participants alike: an absent side is open, and an end includes all of what it names.

/** A Period without start or end is open on that side; a date that does not parse closes it. */
export function periodContains(period: Period | undefined, at: Date): boolean {
  if (period === undefined) return true;
  const start = period.start === undefined ? -Infinity : startOf(period.start);
  const end = period.end === undefined ? Infinity : endOf(period.end);
  if (start === undefined || end === undefined) return false;
  return start <= at.getTime() && at.getTime() < end;
}

const PARTIAL_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

/** The first millisecond of a FHIR date or dateTime (a date without a zone is read as UTC). */
export function startOf(value: string): number | undefined {
  const partial = PARTIAL_DATE.exec(value);
  const time = partial ? Date.UTC(Number(partial[1]), Number(partial[2] ?? 1) - 1, Number(partial[3] ?? 1)) : Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}

/**
 * The first millisecond after a FHIR date or dateTime, as a Period's end. R4 Period.end: "The high
 * value includes any matching date/time", so an end of 2025-06-30 holds all that day and an end
 * of 2025-06 all that month.
 */
export function endOf(value: string): number | undefined {
  const partial = PARTIAL_DATE.exec(value);
  if (partial) {
    const [year, month, day] = [Number(partial[1]), partial[2] === undefined ? undefined : Number(partial[2]) - 1, partial[3] === undefined ? undefined : Number(partial[3])];
    if (month === undefined) return Date.UTC(year + 1, 0, 1);
    return day === undefined ? Date.UTC(year, month + 1, 1) : Date.UTC(year, month, day + 1);
  }
  const time = Date.parse(value);
  if (Number.isNaN(time)) return undefined;
  // A time given to the second holds until the next second; one with a fraction, to its millisecond.
  return time + (/T\d{2}:\d{2}:\d{2}\./.test(value) ? 1 : 1000);
}
