import { BOT_MESSAGES } from './bot-messages.js';

// A case room's open hours ("tue,thu 15:00-16:00"): when members other than the moderators may
// write. The times are the case's wall clock in its time zone, so a rule set in winter still
// opens at 15:00 in summer; the instants move, and Intl.DateTimeFormat (the IANA database Node
// ships) says where. Outside the hours the hub locks the room.

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** Monday first (ISO 8601), as the days are listed back to a counsellor. */
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export interface OpenHoursRule {
  /** The days the room opens, in WEEKDAYS order, each once. */
  days: Weekday[];
  /** 'HH:MM', on the case's wall clock: the room opens at this minute… */
  start: string;
  /** …and closes at this one, later the same day ('24:00' for midnight at the day's end). */
  end: string;
}

/** A rule read from a counsellor's text, or why it could not be read (in words for them). */
export type OpenHoursReading = { rule: OpenHoursRule } | { why: string };

const DAY_NAMES: Readonly<Record<string, Weekday>> = {
  mon: 'mon', monday: 'mon',
  tue: 'tue', tues: 'tue', tuesday: 'tue',
  wed: 'wed', weds: 'wed', wednesday: 'wed',
  thu: 'thu', thur: 'thu', thurs: 'thu', thursday: 'thu',
  fri: 'fri', friday: 'fri',
  sat: 'sat', saturday: 'sat',
  sun: 'sun', sunday: 'sun',
};

/** Words that stand for several days at once. */
const DAY_GROUPS: Readonly<Record<string, readonly Weekday[]>> = {
  weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
  weekends: ['sat', 'sun'],
  weekend: ['sat', 'sun'],
  daily: WEEKDAYS,
};

const MINUTES_PER_DAY = 24 * 60;

/** "15:00", "9:30", "15.00", "15" as minutes after midnight; '24:00' only where `endOfDay` allows it. */
function minutesOf(time: string, endOfDay: boolean): number | undefined {
  const match = /^(\d{1,2})(?:[:.](\d{2}))?$/.exec(time);
  if (!match) return undefined;
  const hours = Number(match[1]);
  const minutes = Number(match[2] ?? '0');
  if (minutes > 59 || hours > 24 || (hours === 24 && (minutes > 0 || !endOfDay))) return undefined;
  return hours * 60 + minutes;
}

const asClock = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** The days a text names: "tue", "Tuesday", "tue,thu", "mon-fri", "weekdays"; undefined if any word is not a day. */
function daysOf(text: string): Weekday[] | undefined {
  const words = text
    .toLowerCase()
    .replace(/every\s*day/g, 'daily')
    .replace(/\s*[-–—]\s*/g, '-')
    .split(/[\s,;/&+]+|\band\b/)
    .filter(Boolean);
  if (words.length === 0) return undefined;
  const days = new Set<Weekday>();
  for (const word of words) {
    const range = /^([a-z]+)-([a-z]+)$/.exec(word);
    if (range) {
      const from = DAY_NAMES[range[1]!];
      const to = DAY_NAMES[range[2]!];
      if (!from || !to) return undefined;
      // "sat-mon" runs over the week's end.
      for (let i = WEEKDAYS.indexOf(from); ; i = (i + 1) % 7) {
        days.add(WEEKDAYS[i]!);
        if (WEEKDAYS[i] === to) break;
      }
      continue;
    }
    const named = DAY_NAMES[word] ?? DAY_GROUPS[word];
    if (!named) return undefined;
    for (const day of typeof named === 'string' ? [named] : named) days.add(day);
  }
  return WEEKDAYS.filter((day) => days.has(day));
}

/** Reads "tue 15:00-16:00", "Tuesday 15-16", "tue,thu 15:00–16:00", "mon-fri 9:00 to 17:00" ("off" is the command's to read). */
export function parseOpenHours(text: string): OpenHoursReading {
  const syntax = BOT_MESSAGES.case.syntax;
  const match = /^(.*?)\s*(\d{1,2}(?:[:.]\d{2})?)\s*(?:-|–|—|to)\s*(\d{1,2}(?:[:.]\d{2})?)$/i.exec(text.trim());
  if (!match) return { why: syntax.hoursExample };
  const days = daysOf(match[1]!);
  if (!days) return { why: syntax.hoursDays };
  const start = minutesOf(match[2]!, false);
  const end = minutesOf(match[3]!, true);
  if (start === undefined || end === undefined) return { why: syntax.hoursTimes };
  // Open hours past midnight would belong to two days; a counsellor sets two days instead.
  if (end <= start) return { why: syntax.hoursEndBeforeStart };
  if (days.length === 7 && start === 0 && end === MINUTES_PER_DAY) return { why: syntax.hoursAlwaysOpen };
  return { rule: { days, start: asClock(start), end: asClock(end) } };
}

const DAY_LABELS: Readonly<Record<Weekday, string>> = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' };

/** The rule as a counsellor reads it back, and can type again: "Mon–Fri 09:00–17:00", "Tue, Thu 15:00–16:00". */
export function formatOpenHours(rule: OpenHoursRule): string {
  const runs: Weekday[][] = [];
  for (const day of WEEKDAYS.filter((d) => rule.days.includes(d))) {
    const run = runs.at(-1);
    if (run && WEEKDAYS.indexOf(run.at(-1)!) === WEEKDAYS.indexOf(day) - 1) run.push(day);
    else runs.push([day]);
  }
  // Three days or more in a row read better as a range; two stay a list ("Sat, Sun").
  const days = runs.flatMap((run) => (run.length >= 3 ? [`${DAY_LABELS[run[0]!]}–${DAY_LABELS[run.at(-1)!]}`] : run.map((d) => DAY_LABELS[d])));
  return `${days.join(', ')} ${rule.start}–${rule.end}`;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const wallClockFormats = new Map<string, Intl.DateTimeFormat>();

/** What a clock on the wall in `timeZone` shows at `at` (to the second). */
function wallClockAt(at: number, timeZone: string): WallClock {
  let format = wallClockFormats.get(timeZone);
  if (!format) {
    // h23: some engines write midnight as "24" with hour12 off.
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    wallClockFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((part) => [part.type, part.value]));
  return { year: Number(parts['year']), month: Number(parts['month']), day: Number(parts['day']), hour: Number(parts['hour']), minute: Number(parts['minute']), second: Number(parts['second']) };
}

/** How far `timeZone`'s wall clock is ahead of UTC at `at`, in ms (CET +1 h, CEST +2 h). */
function offsetAt(at: number, timeZone: string): number {
  const wall = wallClockAt(at, timeZone);
  return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second) - Math.floor(at / 1000) * 1000;
}

/** Date.getUTCDay() order (Sunday first). */
const BY_UTC_DAY: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export function isOpenAt(rule: OpenHoursRule, at: Date, timeZone: string): boolean {
  const wall = wallClockAt(at.getTime(), timeZone);
  const weekday = BY_UTC_DAY[new Date(Date.UTC(wall.year, wall.month - 1, wall.day)).getUTCDay()]!;
  const minute = wall.hour * 60 + wall.minute;
  return rule.days.includes(weekday) && minute >= minutesOf(rule.start, false)! && minute < minutesOf(rule.end, true)!;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The instants at which the wall clock shows `wallAsUtc` (a local time written as if it were
 * UTC): one on most days, none in the hour skipped in spring, two in the hour repeated in autumn.
 */
function instantsShowing(wallAsUtc: number, timeZone: string): number[] {
  const offsets = new Set([offsetAt(wallAsUtc - DAY_MS, timeZone), offsetAt(wallAsUtc + DAY_MS, timeZone)]);
  return [...offsets].map((offset) => wallAsUtc - offset).filter((at) => offsetAt(at, timeZone) === wallAsUtc - at);
}

/** The instants in [from, to) at which `timeZone` changes its offset (its DST switches), to the second. */
function offsetChanges(from: number, to: number, timeZone: string): number[] {
  const changes: number[] = [];
  let before = offsetAt(from, timeZone);
  for (let at = from; at < to; at += HOUR_MS) {
    const after = offsetAt(at + HOUR_MS, timeZone);
    if (after === before) continue;
    // On whole seconds, as offsets change (and offsetAt reads them), so the halving ends.
    let low = Math.floor(at / 1000) * 1000;
    let high = Math.ceil((at + HOUR_MS) / 1000) * 1000;
    while (high - low > 1000) {
      const middle = Math.floor((low + high) / 2000) * 1000;
      if (offsetAt(middle, timeZone) === before) low = middle;
      else high = middle;
    }
    changes.push(high);
    before = after;
  }
  return changes;
}

/** Far enough ahead to see the next change of any rule that changes at all (one day a week). */
const LOOK_AHEAD_DAYS = 9;

/**
 * The next instant after `after` at which the room opens or closes. The hours change only where
 * the wall clock reaches a rule's start or end, or where it jumps (a DST switch can skip an
 * opening, or repeat a closing hour): those are the candidates, and the first at which
 * `isOpenAt` differs from now is the answer. A rule that never changes (no days) throws.
 */
export function nextChange(rule: OpenHoursRule, after: Date, timeZone: string): Date {
  const from = after.getTime();
  const openNow = isOpenAt(rule, after, timeZone);
  const today = wallClockAt(from, timeZone);
  const boundaries = [minutesOf(rule.start, false)!, minutesOf(rule.end, true)!];
  const candidates = offsetChanges(from, from + LOOK_AHEAD_DAYS * DAY_MS, timeZone);
  for (let day = -1; day <= LOOK_AHEAD_DAYS; day++) {
    for (const minute of boundaries) {
      // Date.UTC carries day and minute overflow ('24:00' is the next day's 00:00).
      candidates.push(...instantsShowing(Date.UTC(today.year, today.month - 1, today.day + day, 0, minute), timeZone));
    }
  }
  const next = candidates
    .filter((at) => at > from)
    .sort((a, b) => a - b)
    .find((at) => isOpenAt(rule, new Date(at), timeZone) !== openNow);
  if (next === undefined) throw new RangeError(`open hours ${formatOpenHours(rule)} never change`);
  return new Date(next);
}

const localTimeFormats = new Map<string, Intl.DateTimeFormat>();

/** An instant as the bot names it to the case's members: "Tue 31 Mar, 15:00", on the case's wall clock. */
export function formatLocalTime(at: Date, timeZone: string): string {
  let format = localTimeFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    localTimeFormats.set(timeZone, format);
  }
  return format.format(at);
}
