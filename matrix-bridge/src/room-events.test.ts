import { EventEmitter } from 'node:events';
import { RoomEvent, RoomStateEvent } from 'matrix-js-sdk';
import { caseRoomKind as realCaseRoomKind, type CaseRoomEvent as RealCaseRoomEvent } from './case-room-kind.js';
import { referralRoomKind, type ReferralRoomEvent } from './referral-room-kind.js';
import type { RoomEventBase, RoomKind } from './room-kind.js';
import { RoomEvents } from './room-events.js';
import { CAREHUB_ROOM_STATE } from './room-state.js';

// A tiny fake of what the dispatcher reads from the bot's sync: rooms with their CareHub state,
// and members' events in them. No homeserver.
const BOT = '@carehub:carehub.test';
const GP = '@gp:carehub.test';

function fakeRoom(roomId: string, carehubState: Record<string, unknown> | undefined) {
  const room = {
    roomId,
    state: carehubState,
    currentState: {
      roomId,
      getStateEvents: (type: string, key: string) => (type === CAREHUB_ROOM_STATE && key === '' && room.state ? { getContent: () => room.state } : null),
    },
    findEventById: () => undefined,
  };
  return room;
}

function fakeEvent(fields: { id: string; type: string; content: Record<string, unknown>; roomId: string; sender?: string; stateKey?: string; prevContent?: Record<string, unknown> }) {
  return {
    getId: () => fields.id,
    getType: () => fields.type,
    getContent: () => fields.content,
    getSender: () => fields.sender ?? GP,
    getRoomId: () => fields.roomId,
    getStateKey: () => fields.stateKey,
    // As matrix-js-sdk's: the replaced content from `unsigned.prev_content`, or {} when the sync has none.
    getPrevContent: () => fields.prevContent ?? {},
    isState: () => fields.stateKey !== undefined,
    isDecryptionFailure: () => false,
  };
}

function fakeLogger(lines: Array<{ fields: unknown; message: string }>) {
  const log = (fields: unknown, message: string) => lines.push({ fields, message });
  return { info: log, debug: log, warn: log, error: log };
}

/** A second kind, standing in for the case room: its own state event, events and handlers. */
interface CaseRoomEvent extends RoomEventBase {
  happening: { kind: 'note'; text: string };
}
function caseRoomKind(seen: CaseRoomEvent[]): RoomKind<{ kind: 'cases'; careTeam: string }, CaseRoomEvent> {
  return {
    kind: 'cases',
    stateOf: (content) => (content?.['kind'] === 'cases' && typeof content['careTeam'] === 'string' ? { kind: 'cases', careTeam: content['careTeam'] } : undefined),
    readTimelineEvent: ({ content }) => (typeof content['body'] === 'string' ? { happening: { kind: 'note', text: content['body'] } } : undefined),
    handlers: { note: async (event) => void seen.push(event) },
    membership: { joinRule: 'invite', guestAccess: 'can_join', historyVisibility: 'joined' },
    powerLevels: (_state, botUserId) => ({ users: { [botUserId]: 100 }, users_default: 0, events_default: 0, state_default: 50, invite: 50, kick: 50, ban: 50, redact: 50, events: {} }),
    commands: {},
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
}

describe("the room-events dispatcher finds each room's kind from its state and hands each event to that kind's handler", () => {
  const referralEvents: ReferralRoomEvent[] = [];
  const caseEvents: CaseRoomEvent[] = [];
  const logLines: Array<{ fields: unknown; message: string }> = [];
  const rooms = {
    referrals: fakeRoom('!referrals:carehub.test', { kind: 'referrals', requester: 'Organization/clinic', owner: 'Organization/gp' }),
    cases: fakeRoom('!cases:carehub.test', { kind: 'cases', careTeam: 'CareTeam/ct1' }),
    other: fakeRoom('!other:carehub.test', undefined),
  };
  const bot = Object.assign(new EventEmitter(), {
    getUserId: () => BOT,
    getRooms: () => Object.values(rooms),
    getRoom: (roomId: string) => Object.values(rooms).find((r) => r.roomId === roomId) ?? null,
    decryptEventIfNeeded: async () => undefined,
  });
  const record = async (event: ReferralRoomEvent) => void referralEvents.push(event);
  const referralKind = referralRoomKind({ read: record, action: record, message: record, document: record, help: record });
  const events = new RoomEvents(bot as never, [referralKind, caseRoomKind(caseEvents)], fakeLogger(logLines) as never);
  const message = (room: { roomId: string }, id: string, body: string) => fakeEvent({ id, type: 'm.room.message', content: { msgtype: 'm.text', body }, roomId: room.roomId });

  beforeAll(() => events.start());

  test('at start-up it counts the rooms of each kind, naming no one', () => {
    events.recogniseRooms();
    expect(logLines.at(-1)).toEqual({ fields: { roomsByKind: { referrals: 1, cases: 1 }, otherRooms: 1 }, message: expect.stringMatching(/kind of each room/) });
  });

  test("a GP's ✅ in a referral room reaches the referral kind's action handler; a note in a case room the case kind's", async () => {
    bot.emit(RoomEvent.Timeline, message(rooms.referrals, '$accept', '✅'), rooms.referrals, false);
    bot.emit(RoomEvent.Timeline, message(rooms.cases, '$note', 'Seen at home today'), rooms.cases, false);
    bot.emit(RoomEvent.Timeline, message(rooms.other, '$elsewhere', '✅'), rooms.other, false);
    await until(() => referralEvents.length === 1 && caseEvents.length === 1);
    expect(referralEvents).toEqual([{ roomId: rooms.referrals.roomId, eventId: '$accept', sender: GP, eventType: 'm.room.message', relatesTo: [], happening: { kind: 'action', action: 'accept' } }]);
    expect(caseEvents).toEqual([{ roomId: rooms.cases.roomId, eventId: '$note', sender: GP, eventType: 'm.room.message', relatesTo: [], happening: { kind: 'note', text: 'Seen at home today' } }]);
  });

  test('a read receipt reaches only a kind that handles read receipts', async () => {
    referralEvents.length = 0;
    caseEvents.length = 0;
    const receipt = (room: { roomId: string }) => fakeEvent({ id: '$r', type: 'm.receipt', content: { $read: { 'm.read': { [GP]: { thread_id: '$thread' } } } }, roomId: room.roomId });
    bot.emit(RoomEvent.Receipt, receipt(rooms.cases), rooms.cases);
    bot.emit(RoomEvent.Receipt, receipt(rooms.referrals), rooms.referrals);
    await until(() => referralEvents.length === 1);
    expect(referralEvents.map((e) => [e.roomId, e.happening, e.relatesTo])).toEqual([[rooms.referrals.roomId, { kind: 'read', upTo: '$read' }, ['$read', '$thread']]]);
    expect(caseEvents).toEqual([]);
  });

  test("a room whose CareHub state changes is known by its new kind from the state event on", async () => {
    referralEvents.length = 0;
    caseEvents.length = 0;
    rooms.cases.state = { kind: 'referrals', owner: 'Organization/gp2' };
    const stateEvent = fakeEvent({ id: '$state', type: CAREHUB_ROOM_STATE, content: rooms.cases.state, roomId: rooms.cases.roomId, sender: BOT, stateKey: '' });
    bot.emit(RoomStateEvent.Events, stateEvent, rooms.cases.currentState, null);
    bot.emit(RoomEvent.Timeline, message(rooms.cases, '$decline', '❌ no capacity'), rooms.cases, false);
    await until(() => referralEvents.length === 1);
    expect(referralEvents.map((e) => [e.roomId, e.happening])).toEqual([[rooms.cases.roomId, { kind: 'action', action: 'decline', text: 'no capacity' }]]);
    expect(caseEvents).toEqual([]);
  });

  afterAll(() => events.stop());
});

describe("a member's state events in the timeline reach the kinds that read them", () => {
  const COUNSELLOR = '@counsellor:carehub.test';
  const caseEvents: RealCaseRoomEvent[] = [];
  const referralEvents: ReferralRoomEvent[] = [];
  const rooms = {
    case: fakeRoom('!case:carehub.test', { kind: 'case', careTeam: 'CareTeam/ct1' }),
    referrals: fakeRoom('!referrals:carehub.test', { kind: 'referrals', requester: 'Organization/clinic', owner: 'Organization/gp' }),
  };
  const bot = Object.assign(new EventEmitter(), {
    getUserId: () => BOT,
    getRooms: () => Object.values(rooms),
    getRoom: (roomId: string) => Object.values(rooms).find((r) => r.roomId === roomId) ?? null,
    decryptEventIfNeeded: async () => undefined,
  });
  const recordCase = async (event: RealCaseRoomEvent) => void caseEvents.push(event);
  const recordReferral = async (event: ReferralRoomEvent) => void referralEvents.push(event);
  const caseKind = realCaseRoomKind({ command: recordCase, message: recordCase, 'member-gone': recordCase, 'power-levels': recordCase, 'meeting-answer': recordCase });
  const referralKind = referralRoomKind({ read: recordReferral, action: recordReferral, message: recordReferral, document: recordReferral, help: recordReferral });
  const events = new RoomEvents(bot as never, [referralKind, caseKind], fakeLogger([]) as never);
  const member = (room: { roomId: string }, id: string, fields: { sender: string; target: string; now: Record<string, unknown>; before: Record<string, unknown> }) =>
    fakeEvent({ id, type: 'm.room.member', content: fields.now, prevContent: fields.before, roomId: room.roomId, sender: fields.sender, stateKey: fields.target });
  const message = (room: { roomId: string }, id: string, body: string) => fakeEvent({ id, type: 'm.room.message', content: { msgtype: 'm.text', body }, roomId: room.roomId });

  beforeAll(() => {
    events.start();
    events.recogniseRooms();
  });
  beforeEach(() => {
    caseEvents.length = 0;
    referralEvents.length = 0;
  });

  test("a GP who leaves a case room in Element reaches the case kind's member-gone handler", async () => {
    bot.emit(RoomEvent.Timeline, member(rooms.case, '$left', { sender: GP, target: GP, now: { membership: 'leave', reason: 'moved practice' }, before: { membership: 'join' } }), rooms.case, false);
    await until(() => caseEvents.length === 1);
    expect(caseEvents).toEqual([
      { roomId: rooms.case.roomId, eventId: '$left', sender: GP, eventType: 'm.room.member', relatesTo: [], happening: { kind: 'member-gone', userId: GP, membership: 'leave', reason: 'moved practice' } },
    ]);
  });

  test("a counsellor banning the GP in Element, then changing power levels there, reach the case kind's handlers in that order", async () => {
    bot.emit(RoomEvent.Timeline, member(rooms.case, '$ban', { sender: COUNSELLOR, target: GP, now: { membership: 'ban', reason: 'not on the case' }, before: { membership: 'join' } }), rooms.case, false);
    const powerLevels = { users: { [BOT]: 100, [COUNSELLOR]: 50, [GP]: -1 }, users_default: 0 };
    bot.emit(RoomEvent.Timeline, fakeEvent({ id: '$pl', type: 'm.room.power_levels', content: powerLevels, roomId: rooms.case.roomId, sender: COUNSELLOR, stateKey: '' }), rooms.case, false);
    await until(() => caseEvents.length === 2);
    expect(caseEvents.map((e) => [e.eventId, e.sender, e.happening])).toEqual([
      ['$ban', COUNSELLOR, { kind: 'member-gone', userId: GP, membership: 'ban', reason: 'not on the case' }],
      ['$pl', COUNSELLOR, { kind: 'power-levels', content: powerLevels }],
    ]);
  });

  test('a state event the case kind does not read (a new room name) is not dispatched', async () => {
    bot.emit(RoomEvent.Timeline, fakeEvent({ id: '$name', type: 'm.room.name', content: { name: 'Renamed' }, roomId: rooms.case.roomId, stateKey: '' }), rooms.case, false);
    bot.emit(RoomEvent.Timeline, message(rooms.case, '$after', 'Seen at home today'), rooms.case, false);
    await until(() => caseEvents.length === 1);
    expect(caseEvents.map((e) => e.eventId)).toEqual(['$after']);
  });

  test('a kind without readStateEvent (the referral room) ignores state events: a GP leaving it sets nothing off', async () => {
    bot.emit(RoomEvent.Timeline, member(rooms.referrals, '$gp-left', { sender: GP, target: GP, now: { membership: 'leave' }, before: { membership: 'join' } }), rooms.referrals, false);
    // Not read as a message either, though a state event is in the timeline like one.
    bot.emit(RoomEvent.Timeline, fakeEvent({ id: '$odd', type: 'm.room.topic', content: { msgtype: 'm.text', body: '✅' }, roomId: rooms.referrals.roomId, stateKey: '' }), rooms.referrals, false);
    bot.emit(RoomEvent.Timeline, message(rooms.referrals, '$accept', '✅'), rooms.referrals, false);
    await until(() => referralEvents.length === 1);
    expect(referralEvents.map((e) => [e.eventId, e.happening])).toEqual([['$accept', { kind: 'action', action: 'accept' }]]);
  });

  test("the bot's own state events (it removing a member who is no longer a participant) are never dispatched", async () => {
    bot.emit(RoomEvent.Timeline, member(rooms.case, '$bot-kick', { sender: BOT, target: GP, now: { membership: 'leave', reason: 'No longer a participant of the case (CareTeam)' }, before: { membership: 'join' } }), rooms.case, false);
    const powerLevels = { users: { [BOT]: 100 }, users_default: 0 };
    bot.emit(RoomEvent.Timeline, fakeEvent({ id: '$bot-pl', type: 'm.room.power_levels', content: powerLevels, roomId: rooms.case.roomId, sender: BOT, stateKey: '' }), rooms.case, false);
    bot.emit(RoomEvent.Timeline, message(rooms.case, '$after-bot', 'Noted'), rooms.case, false);
    await until(() => caseEvents.length === 1);
    expect(caseEvents.map((e) => e.eventId)).toEqual(['$after-bot']);
  });

  afterAll(() => events.stop());
});
