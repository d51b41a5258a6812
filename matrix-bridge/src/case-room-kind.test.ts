import { CASE_ROOM } from './case-room-kind.js';
import type { StateChange, TimelineEvent } from './room-kind.js';

const GP = '@gp:hs';

const timelineEvent = (type: string, content: Record<string, unknown>): TimelineEvent => ({ type, content, relatesTo: [], botContentOf: () => undefined });
const text = (body: string, extra: Record<string, unknown> = {}) => timelineEvent('m.room.message', { msgtype: 'm.text', body, ...extra });

const stateChange = (type: string, stateKey: string, content: Record<string, unknown>, previousContent?: Record<string, unknown>): StateChange => ({ type, stateKey, content, previousContent });
const membership = (now: Record<string, unknown>, before: Record<string, unknown> | undefined) => stateChange('m.room.member', GP, now, before);

describe('a room is known as a case room from its own CareHub state', () => {
  test('a state naming the case (a CareTeam) marks a case room', () => {
    expect(CASE_ROOM.stateOf({ kind: 'case', careTeam: 'CareTeam/1' })).toEqual({ kind: 'case', careTeam: 'CareTeam/1' });
  });

  test('only FHIR ids are kept from it, whatever else the state holds', () => {
    expect(CASE_ROOM.stateOf({ kind: 'case', careTeam: 'CareTeam/1', note: 'extra' })).toEqual({ kind: 'case', careTeam: 'CareTeam/1' });
  });

  test('a referral room, a room without CareHub state, or a case state that names no CareTeam is no case room', () => {
    expect(CASE_ROOM.stateOf(undefined)).toBeUndefined();
    expect(CASE_ROOM.stateOf({})).toBeUndefined();
    expect(CASE_ROOM.stateOf({ kind: 'referrals', requester: 'Organization/clinic', owner: 'Organization/gp' })).toBeUndefined();
    expect(CASE_ROOM.stateOf({ kind: 'case' })).toBeUndefined();
    expect(CASE_ROOM.stateOf({ kind: 'case', careTeam: 'Patient/1' })).toBeUndefined();
    expect(CASE_ROOM.stateOf({ kind: 'case', careTeam: 1 })).toBeUndefined();
    expect(CASE_ROOM.stateOf({ kind: 'cases', careTeam: 'CareTeam/1' })).toBeUndefined();
  });
});

describe('what a member writes in a case room', () => {
  test('a moderator typing "!mute @gp:hs 30m" gives a command', () => {
    expect(CASE_ROOM.readTimelineEvent(text('!mute @gp:hs 30m'))).toEqual({ happening: { kind: 'command', command: { kind: 'mute', target: GP, forMs: 30 * 60_000 } } });
  });

  test('a mention pill in the formatted body names the member exactly', () => {
    const pill = text('!mute Dr Hansen 30m', { format: 'org.matrix.custom.html', formatted_body: '!mute <a href="https://matrix.to/#/@gp:hs">Dr Hansen</a> 30m' });
    expect(CASE_ROOM.readTimelineEvent(pill)).toEqual({ happening: { kind: 'command', command: { kind: 'mute', target: GP, forMs: 30 * 60_000 } } });
  });

  test('a nurse writing about the visit is conversation, kept as its text', () => {
    expect(CASE_ROOM.readTimelineEvent(text('Seen at home today, eating well'))).toEqual({ happening: { kind: 'message', text: 'Seen at home today, eating well' } });
  });

  test("another bot's notice is not read", () => {
    expect(CASE_ROOM.readTimelineEvent(timelineEvent('m.room.message', { msgtype: 'm.notice', body: '!mute @gp:hs 30m' }))).toBeUndefined();
  });

  test('a file a member posts is no message to act on: it stays in the room, and the transcript takes it at the close', () => {
    expect(CASE_ROOM.readTimelineEvent(timelineEvent('m.room.message', { msgtype: 'm.file', body: 'discharge-letter.pdf', file: { url: 'mxc://carehub.test/x' } }))).toBeUndefined();
  });

  test('editing an earlier message (m.replace) does not give the command again', () => {
    const edit = text('* !mute @gp:hs 30m', { 'm.new_content': { msgtype: 'm.text', body: '!mute @gp:hs 30m' }, 'm.relates_to': { rel_type: 'm.replace', event_id: '$original' } });
    expect(CASE_ROOM.readTimelineEvent(edit)).toBeUndefined();
  });

  test('a reply in a thread is still read', () => {
    const threaded = text('!lock', { 'm.relates_to': { rel_type: 'm.thread', event_id: '$root' } });
    expect(CASE_ROOM.readTimelineEvent(threaded)).toEqual({ happening: { kind: 'command', command: { kind: 'lock' } } });
  });

  test('reactions, stickers and messages without a text body are not read', () => {
    expect(CASE_ROOM.readTimelineEvent(timelineEvent('m.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$x', key: '👍' } }))).toBeUndefined();
    expect(CASE_ROOM.readTimelineEvent(timelineEvent('m.sticker', { body: 'a sticker', url: 'mxc://hs/s' }))).toBeUndefined();
    expect(CASE_ROOM.readTimelineEvent(timelineEvent('m.room.message', { msgtype: 'm.text' }))).toBeUndefined();
  });
});

describe('who leaves a case room, and how moderators change it in their own client', () => {
  test('a GP who leaves gives member-gone, with the reason they gave', () => {
    expect(CASE_ROOM.readStateEvent!(membership({ membership: 'leave', reason: 'moved practice' }, { membership: 'join' }))).toEqual({
      happening: { kind: 'member-gone', userId: GP, membership: 'leave', reason: 'moved practice' },
    });
  });

  test('an invited GP who declines (or whose invitation is withdrawn) is gone too', () => {
    expect(CASE_ROOM.readStateEvent!(membership({ membership: 'leave' }, { membership: 'invite' }))).toEqual({
      happening: { kind: 'member-gone', userId: GP, membership: 'leave', reason: undefined },
    });
  });

  test('a moderator banning a member in Element gives member-gone with membership ban', () => {
    expect(CASE_ROOM.readStateEvent!(membership({ membership: 'ban', reason: 'spam' }, { membership: 'join' }))).toEqual({
      happening: { kind: 'member-gone', userId: GP, membership: 'ban', reason: 'spam' },
    });
  });

  test('someone who was not in the room, or only changed their name, is nobody gone', () => {
    expect(CASE_ROOM.readStateEvent!(membership({ membership: 'leave' }, { membership: 'leave' }))).toBeUndefined();
    expect(CASE_ROOM.readStateEvent!(membership({ membership: 'ban' }, { membership: 'leave' }))).toBeUndefined();
    expect(CASE_ROOM.readStateEvent!(membership({ membership: 'join', displayname: 'Dr Hansen' }, { membership: 'join' }))).toBeUndefined();
    expect(CASE_ROOM.readStateEvent!(membership({ membership: 'join' }, { membership: 'invite' }))).toBeUndefined();
  });

  test('a moderator changing power levels in Element gives power-levels, with the new content', () => {
    const content = { users: { '@bot:hs': 100, [GP]: -1 }, users_default: 0, events_default: 0 };
    expect(CASE_ROOM.readStateEvent!(stateChange('m.room.power_levels', '', content, { users: { '@bot:hs': 100 } }))).toEqual({ happening: { kind: 'power-levels', content } });
  });

  test('other state (the name, the topic, CareHub state) is not read', () => {
    expect(CASE_ROOM.readStateEvent!(stateChange('m.room.name', '', { name: 'Renamed' }, { name: 'Case 42 · Home care' }))).toBeUndefined();
    expect(CASE_ROOM.readStateEvent!(stateChange('m.room.topic', '', { topic: 'x' }, undefined))).toBeUndefined();
    expect(CASE_ROOM.readStateEvent!(stateChange('org.carehub.room', '', { kind: 'case', careTeam: 'CareTeam/1' }, undefined))).toBeUndefined();
  });
});
