import { EventType } from 'matrix-js-sdk';
import { parseDirectCommand, type DirectCommand } from './direct-commands.js';
import type { RoomEventBase, RoomEventHandlers, RoomKind, RoomKindWithoutHandlers } from './room-kind.js';
import { casePowerLevels } from './case-power-levels.js';

// The direct chat, the third room kind: a counsellor (any network member in the directory)
// talks to the hub's bot alone, to open cases, record consent, find and invite people, and
// refer. The member starts it from their own client; the bot joins and marks it.

export interface DirectChatState {
  kind: 'direct';
  /** Who started the chat. */
  user: string;
}

export function asDirectChatState(content: Record<string, unknown> | undefined): DirectChatState | undefined {
  return content && content['kind'] === 'direct' && typeof content['user'] === 'string' ? { kind: 'direct', user: content['user'] } : undefined;
}

export type DirectHappening = { kind: 'request'; command: DirectCommand };

export interface DirectChatEvent extends RoomEventBase {
  happening: DirectHappening;
}

export type DirectChatHandlers = RoomEventHandlers<DirectChatEvent>;

export const DIRECT_CHAT: RoomKindWithoutHandlers<DirectChatState, DirectChatEvent, DirectCommand['kind']> = {
  kind: 'direct',
  stateOf: asDirectChatState,
  readTimelineEvent(event) {
    if (event.type !== EventType.RoomMessage) return undefined;
    const { body, msgtype } = event.content as { body?: unknown; msgtype?: unknown };
    const relation = event.content['m.relates_to'] as { rel_type?: string } | undefined;
    if (typeof body !== 'string' || (msgtype !== 'm.text' && msgtype !== 'm.emote') || relation?.rel_type === 'm.replace') return undefined;
    return { happening: { kind: 'request', command: parseDirectCommand(body) } };
  },
  // The member made the room (Element's "Start chat"); the bot only marks it. These apply to none.
  membership: { joinRule: 'invite', guestAccess: 'forbidden', historyVisibility: 'invited' },
  powerLevels(_state, botUserId) {
    return casePowerLevels(botUserId, { moderators: [], staff: [], muted: [], locked: false, mutedAllButStaff: false });
  },
  commands: { help: 'help', 'case open': 'open', consent: 'consent', 'case invite': 'search', find: 'search', refer: 'refer', cases: 'list', 'case use': 'use' },
};

export function directChatKind(handlers: DirectChatHandlers): RoomKind<DirectChatState, DirectChatEvent, DirectCommand['kind']> {
  return { ...DIRECT_CHAT, handlers };
}
