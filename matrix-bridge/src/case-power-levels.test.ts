import { CASE_LEVELS, casePowerLevels, moderationOfPowerLevels, type CaseModeration } from './case-power-levels.js';
import type { PowerLevels } from './room-kind.js';

const BOT = '@carehub:carehub.test';
const COUNSELLOR = '@counsellor:carehub.test';
const COLLEAGUE = '@colleague:carehub.test'; // staff: the counsellor's own organisation
const GP = '@gp:practice.example';
const NURSE = '@nurse:homecare.example';

const open: CaseModeration = { moderators: [COUNSELLOR], staff: [COLLEAGUE], muted: [], locked: false, mutedAllButStaff: false };

/** Whether `user` may send a message (encrypted: `m.room.encrypted`) under `levels`, as the homeserver decides it. */
function canWrite(levels: PowerLevels, user: string): boolean {
  const needed = levels.events['m.room.encrypted'] ?? levels.events_default;
  return (levels.users[user] ?? levels.users_default) >= needed;
}
const writers = (levels: PowerLevels) => [BOT, COUNSELLOR, COLLEAGUE, GP, NURSE].filter((user) => canWrite(levels, user));

describe('a case room’s power levels follow its moderation', () => {
  test('an open case: everyone writes; the counsellor moderates (Element’s Mute works for her); only the bot invites or changes the room’s make-up and name', () => {
    const levels = casePowerLevels(BOT, open);
    expect(levels.users).toEqual({ [BOT]: 100, [COUNSELLOR]: 50, [COLLEAGUE]: 10 });
    expect(levels).toMatchObject({ users_default: 0, events_default: 0, state_default: 50, invite: 100, kick: 50, ban: 50, redact: 50 });
    expect(writers(levels)).toEqual([BOT, COUNSELLOR, COLLEAGUE, GP, NURSE]);
    for (const type of ['m.room.encryption', 'm.room.history_visibility', 'm.room.join_rules', 'm.room.tombstone', 'm.room.server_acl', 'org.carehub.room', 'm.room.name', 'm.room.topic', 'm.room.avatar']) {
      expect(levels.events[type]).toBe(100);
    }
    expect(levels.events['m.room.power_levels']).toBe(50);
    expect(levels.events['m.room.pinned_events']).toBe(50);
    expect(levels.events['im.vector.modular.widgets']).toBe(50);
  });

  test('the counsellor mutes the GP, then a colleague: neither can write', () => {
    const levels = casePowerLevels(BOT, { ...open, muted: [GP, COLLEAGUE] });
    expect(levels.users[GP]).toBe(-1);
    expect(levels.users[COLLEAGUE]).toBe(-1);
    expect(writers(levels)).toEqual([BOT, COUNSELLOR, NURSE]);
  });

  test('a moderator cannot be muted: the counsellor keeps writing, so the case can always be unlocked', () => {
    const levels = casePowerLevels(BOT, { ...open, muted: [COUNSELLOR] });
    expect(levels.users[COUNSELLOR]).toBe(CASE_LEVELS.moderator);
    expect(writers(levels)).toContain(COUNSELLOR);
  });

  test('the counsellor mutes everyone but staff: the GP and nurse wait, colleagues write', () => {
    const levels = casePowerLevels(BOT, { ...open, mutedAllButStaff: true });
    expect(levels.events_default).toBe(10);
    expect(writers(levels)).toEqual([BOT, COUNSELLOR, COLLEAGUE]);
  });

  test('the counsellor locks the room: only moderators write, also when the room is muted for all', () => {
    expect(casePowerLevels(BOT, { ...open, locked: true }).events_default).toBe(50);
    expect(writers(casePowerLevels(BOT, { ...open, locked: true, mutedAllButStaff: true }))).toEqual([BOT, COUNSELLOR]);
  });

  test('the lock is events_default, because a per-type rule does not catch encrypted messages', () => {
    const levels = casePowerLevels(BOT, { ...open, locked: true });
    expect(levels.events['m.room.message']).toBeUndefined();
    expect(levels.events['m.room.encrypted']).toBeUndefined();
  });
});

describe('the hub follows what a moderator did with Element’s own buttons', () => {
  const read = (content: Record<string, unknown>) => moderationOfPowerLevels(content, BOT, [COLLEAGUE], [COUNSELLOR]);

  test('reads back its own power levels unchanged', () => {
    const moderation = { ...open, muted: [GP, COLLEAGUE], mutedAllButStaff: true };
    expect(read({ ...casePowerLevels(BOT, moderation) })).toEqual({ muted: [COLLEAGUE, GP], locked: false, mutedAllButStaff: true });
    expect(read({ ...casePowerLevels(BOT, { ...open, locked: true }) })).toEqual({ muted: [], locked: true, mutedAllButStaff: false });
    expect(read({ ...casePowerLevels(BOT, open) })).toEqual({ muted: [], locked: false, mutedAllButStaff: false });
  });

  test('Element’s "Mute" (one below the level to write) mutes, in an open, a muted-for-all or a locked room', () => {
    expect(read({ events_default: 0, users: { [BOT]: 100, [GP]: -1 } }).muted).toEqual([GP]);
    expect(read({ events_default: 10, users: { [BOT]: 100, [COLLEAGUE]: 9 } }).muted).toEqual([COLLEAGUE]);
    expect(read({ events_default: 50, users: { [BOT]: 100, [NURSE]: 49, [COLLEAGUE]: 10 } })).toEqual({ muted: [NURSE], locked: true, mutedAllButStaff: false });
  });

  test('Element’s read-only room is the lock; a level between member and moderator is the mute-all', () => {
    expect(read({ events_default: 50 })).toMatchObject({ locked: true, mutedAllButStaff: false });
    expect(read({ events_default: 100 })).toMatchObject({ locked: true, mutedAllButStaff: false });
    expect(read({ events_default: 5 })).toMatchObject({ locked: false, mutedAllButStaff: true });
    // Spec §10.5: no events_default is 0.
    expect(read({})).toEqual({ muted: [], locked: false, mutedAllButStaff: false });
  });

  test('moderators and the bot are never read as muted, and old rooms’ string levels are read too', () => {
    expect(read({ events_default: 0, users: { [BOT]: -5, [COUNSELLOR]: -1, [GP]: '-1' } }).muted).toEqual([GP]);
  });
});
