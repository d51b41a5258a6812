import { EventEmitter } from 'node:events';
import { RoomEvent, RoomStateEvent } from 'matrix-js-sdk';
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

function fakeEvent(fields: { id: string; type: string; content: Record<string, unknown>; roomId: string; sender?: string; stateKey?: string }) {
  return {
    getId: () => fields.id,
    getType: () => fields.type,
    getContent: () => fields.content,
    getSender: () => fields.sender ?? GP,
    getRoomId: () => fields.roomId,
    getStateKey: () => fields.stateKey,
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
