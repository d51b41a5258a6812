import { formatLocalTime, formatOpenHours, isOpenAt, nextChange, parseOpenHours, type OpenHoursRule } from './open-hours.js';

// The case's clock is Berlin's. In 2026 Berlin moves from CET (UTC+1) to CEST (UTC+2) at 02:00
// on Sunday 29 March, and back at 03:00 on Sunday 25 October.
const BERLIN = 'Europe/Berlin';
const at = (iso: string) => new Date(iso);
const rule = (text: string): OpenHoursRule => {
  const reading = parseOpenHours(text);
  if (!('rule' in reading)) throw new Error(reading.why);
  return reading.rule;
};

describe('a counsellor writes the open hours', () => {
  test('as a day and times, in the usual shapes', () => {
    expect(parseOpenHours('tue 15:00-16:00')).toEqual({ rule: { days: ['tue'], start: '15:00', end: '16:00' } });
    expect(parseOpenHours('Tuesday 15-16')).toEqual({ rule: { days: ['tue'], start: '15:00', end: '16:00' } });
    expect(parseOpenHours('thu, tue 15:00 – 16:00')).toEqual({ rule: { days: ['tue', 'thu'], start: '15:00', end: '16:00' } });
    expect(parseOpenHours('mon-fri 9:00 to 12.30')).toEqual({ rule: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '12:30' } });
    expect(parseOpenHours('weekdays 8-17')).toEqual({ rule: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '17:00' } });
    expect(parseOpenHours('sat-mon 10:00-12:00')).toEqual({ rule: { days: ['mon', 'sat', 'sun'], start: '10:00', end: '12:00' } });
    expect(parseOpenHours('fri 22:00-24:00')).toEqual({ rule: { days: ['fri'], start: '22:00', end: '24:00' } });
  });

  test('and is told, in words for them, what could not be read', () => {
    expect(parseOpenHours('15:00-16:00')).toEqual({ why: expect.stringContaining('which days') });
    expect(parseOpenHours('tusday 15:00-16:00')).toEqual({ why: expect.stringContaining('which days') });
    expect(parseOpenHours('tue 25:00-26:00')).toEqual({ why: expect.stringContaining('00:00 to 24:00') });
    expect(parseOpenHours('tue 22:00-06:00')).toEqual({ why: expect.stringContaining('past midnight') });
    expect(parseOpenHours('daily 00:00-24:00')).toEqual({ why: expect.stringContaining('"!hours off"') });
    expect(parseOpenHours('in the afternoons')).toEqual({ why: expect.stringContaining('e.g.') });
  });

  test('and the bot reads them back in a form they can type again', () => {
    for (const text of ['tue,thu 15:00-16:00', 'mon-fri 09:00-17:00', 'sat,sun 10:00-12:00', 'mon,tue,wed,fri 08:00-09:00']) {
      expect(parseOpenHours(formatOpenHours(rule(text)))).toEqual({ rule: rule(text) });
    }
    expect(formatOpenHours(rule('thu,tue 15:00-16:00'))).toBe('Tue, Thu 15:00–16:00');
    expect(formatOpenHours(rule('mon-fri 9-17'))).toBe('Mon–Fri 09:00–17:00');
    expect(formatOpenHours(rule('mon,tue,wed,fri 8-9'))).toBe('Mon–Wed, Fri 08:00–09:00');
  });
});

describe('the room is open by the clock on the case’s wall', () => {
  const tuesdays = rule('tue 15:00-16:00');

  test('at the same local hour in winter and in summer', () => {
    expect(isOpenAt(tuesdays, at('2026-03-24T14:30:00Z'), BERLIN)).toBe(true); // 15:30 CET
    expect(isOpenAt(tuesdays, at('2026-03-31T13:30:00Z'), BERLIN)).toBe(true); // 15:30 CEST
    expect(isOpenAt(tuesdays, at('2026-03-31T14:30:00Z'), BERLIN)).toBe(false); // 16:30 CEST
    expect(isOpenAt(tuesdays, at('2026-03-31T14:00:00Z'), BERLIN)).toBe(false); // 16:00: closing time
    expect(isOpenAt(tuesdays, at('2026-03-31T13:00:00Z'), BERLIN)).toBe(true); // 15:00: opening time
  });

  test('on the case’s weekday, not UTC’s', () => {
    // Sunday 22:30 UTC is Monday 00:30 in Berlin.
    expect(isOpenAt(rule('mon 00:00-01:00'), at('2026-03-29T22:30:00Z'), BERLIN)).toBe(true);
    expect(isOpenAt(rule('sun 23:00-24:00'), at('2026-03-29T22:30:00Z'), BERLIN)).toBe(false);
  });
});

describe('the hub asks when the room next opens or closes', () => {
  const tuesdays = rule('tue 15:00-16:00');

  test('across the spring switch, the opening stays at 15:00 local', () => {
    const opens = nextChange(tuesdays, at('2026-03-28T12:00:00Z'), BERLIN); // Saturday, CET
    expect(opens).toEqual(at('2026-03-31T13:00:00Z')); // Tuesday 15:00 CEST
    expect(nextChange(tuesdays, opens, BERLIN)).toEqual(at('2026-03-31T14:00:00Z'));
    expect(formatLocalTime(opens, BERLIN)).toBe('Tue 31 Mar, 15:00');
  });

  test('across the autumn switch, too', () => {
    expect(nextChange(tuesdays, at('2026-10-24T12:00:00Z'), BERLIN)).toEqual(at('2026-10-27T14:00:00Z')); // 15:00 CET
    expect(nextChange(tuesdays, at('2026-10-20T13:30:00Z'), BERLIN)).toEqual(at('2026-10-20T14:00:00Z')); // 16:00 CEST
  });

  test('a week ahead when the only opening is today’s, just gone', () => {
    expect(nextChange(tuesdays, at('2026-03-24T15:00:00Z'), BERLIN)).toEqual(at('2026-03-31T13:00:00Z'));
  });

  test('an opening in the hour spring skips happens when the clocks jump', () => {
    const nightShift = rule('sun 02:30-04:00');
    // 02:30 never shows on 29 March: the clock goes from 01:59:59 CET to 03:00 CEST (01:00 UTC).
    expect(nextChange(nightShift, at('2026-03-29T00:00:00Z'), BERLIN)).toEqual(at('2026-03-29T01:00:00Z'));
    expect(nextChange(nightShift, at('2026-03-29T01:00:00Z'), BERLIN)).toEqual(at('2026-03-29T02:00:00Z')); // 04:00 CEST
  });

  test('the hour autumn repeats is read as the wall clock shows it, both times', () => {
    const nightShift = rule('sun 02:30-04:00');
    const changes: Date[] = [];
    let after = at('2026-10-25T00:00:00Z'); // 02:00 CEST
    for (let i = 0; i < 4; i++) changes.push((after = nextChange(nightShift, after, BERLIN)));
    expect(changes).toEqual([
      at('2026-10-25T00:30:00Z'), // 02:30 CEST: opens
      at('2026-10-25T01:00:00Z'), // back to 02:00 CET: before opening time again
      at('2026-10-25T01:30:00Z'), // 02:30 CET: opens again
      at('2026-10-25T03:00:00Z'), // 04:00 CET: closes
    ]);
    for (const change of changes) expect(isOpenAt(nightShift, change, BERLIN)).not.toBe(isOpenAt(nightShift, new Date(change.getTime() - 1000), BERLIN));
  });

  test('an evening open until midnight closes at the next day’s 00:00', () => {
    expect(nextChange(rule('fri 22:00-24:00'), at('2026-03-27T21:30:00Z'), BERLIN)).toEqual(at('2026-03-27T23:00:00Z')); // Sat 00:00 CET
  });

  test('hours that never open are not a rule the hub can wait on', () => {
    expect(() => nextChange({ days: [], start: '15:00', end: '16:00' }, at('2026-03-28T12:00:00Z'), BERLIN)).toThrow(RangeError);
  });
});

test('the hub may ask at any millisecond, not only on the minute', () => {
  const nightShift = rule('sun 02:30-04:00');
  expect(nextChange(nightShift, at('2026-03-28T23:59:59.123Z'), BERLIN)).toEqual(at('2026-03-29T01:00:00Z'));
  expect(nextChange(nightShift, at('2026-10-24T23:10:00.777Z'), BERLIN)).toEqual(at('2026-10-25T00:30:00Z'));
});
