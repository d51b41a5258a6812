import { EventType, Preset, Visibility, type MatrixClient } from 'matrix-js-sdk';
import { createHash } from 'node:crypto';
import { CASE_ROOM, type CaseRoomState } from './case-room-kind.js';
import { WIDGET_STATE } from './meeting-message.js';
import type { PowerLevels } from './room-kind.js';
import type { RoomSender } from './room-sender.js';
import { initialRoomState, joinedOrInvited, RoomsByAlias, settleMembers, waitUntilReadyToEncrypt } from './room-settling.js';

/** What a case room should look like: the hub works it out from the CareTeam and the case's moderation. */
export interface CaseRoomPlan {
  /** Not encrypted: the case number and the service, never the person's name. */
  name: string;
  /** The Matrix users of the case's active participants. */
  members: string[];
  powerLevels: PowerLevels;
  /**
   * Who the case is about, and why: said only inside an encrypted message, pinned (with the
   * ordinary key-sharing policy, so only verified devices of members read it).
   */
  summary: { body: string; formatted_body?: string };
}

/** What settling changed, for the hub's records and notices. */
export interface SettledCaseRoom {
  roomId: string;
  created: boolean;
  invited: string[];
  removed: string[];
}

/** "carehub-case-<hash of the CareTeam reference>": stable for a case, opaque to anyone reading it. */
function aliasLocalpart(state: CaseRoomState): string {
  return `carehub-case-${createHash('sha256').update(state.careTeam).digest('hex').slice(0, 32)}`;
}

function samePowerLevels(current: Record<string, unknown> | undefined, wanted: PowerLevels): boolean {
  if (!current) return false;
  const keys = Object.keys(wanted) as Array<keyof PowerLevels>;
  return keys.every((key) => JSON.stringify(sorted(current[key])) === JSON.stringify(sorted(wanted[key])));
}

const sorted = (value: unknown): unknown =>
  value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b))) : value;

/**
 * The rooms of cases: one per CareTeam, found by an alias derived from it, so settling is
 * idempotent (a retry after a crash, or a second worker, finds the room instead of making another).
 * Settling makes the room match a plan: members, power levels (moderation), name, and the pinned
 * encrypted summary.
 */
export class CaseRooms {
  private readonly rooms: RoomsByAlias;

  constructor(
    private readonly bot: MatrixClient,
    private readonly serverName: string,
    private readonly sender: RoomSender,
  ) {
    this.rooms = new RoomsByAlias(bot);
  }

  aliasFor(state: CaseRoomState): string {
    return `#${aliasLocalpart(state)}:${this.serverName}`;
  }

  /** The case's room, created if needed, made to match `plan`. One settling at a time per case. */
  async settle(state: CaseRoomState, plan: CaseRoomPlan): Promise<SettledCaseRoom> {
    const alias = this.aliasFor(state);
    return this.rooms.inTurn(alias, () => this.settleRoom(alias, state, plan));
  }

  private async settleRoom(alias: string, state: CaseRoomState, plan: CaseRoomPlan): Promise<SettledCaseRoom> {
    const { roomId, created } = await this.rooms.findOrCreate(alias, () => ({
      visibility: Visibility.Private,
      preset: Preset.PrivateChat,
      room_alias_name: aliasLocalpart(state),
      name: plan.name,
      invite: plan.members,
      initial_state: initialRoomState(CASE_ROOM.membership, { ...state }),
      power_level_content_override: plan.powerLevels,
    }));
    const room = this.bot.getRoom(roomId)!;
    const changes = created ? { invited: plan.members, removed: [] } : await settleMembers(this.bot, roomId, plan.members, CASE_ROOM.membership.removeOthers);
    await this.setPowerLevels(roomId, plan.powerLevels);
    if (room.currentState.getStateEvents(EventType.RoomName, '')?.getContent()['name'] !== plan.name) await this.bot.setRoomName(roomId, plan.name);
    await waitUntilReadyToEncrypt(this.bot, roomId, plan.members);
    // History is visible from each member's invitation on: members invited later would never
    // see the summary sent before, so it is sent again (and pinned instead) when anyone joins.
    if (!created && changes.invited.length > 0) await this.repinSummary(roomId, plan.summary, changes.invited);
    else await this.pinSummary(roomId, plan.summary);
    return { roomId, created, ...changes };
  }

  private renderSummary(summary: CaseRoomPlan['summary']) {
    return { msgtype: 'm.notice', ...summary, ...(summary.formatted_body ? { format: 'org.matrix.custom.html' } : {}) };
  }

  /** The summary sent again for members just invited, and pinned in place of the one before; one event per set of newcomers. */
  private async repinSummary(roomId: string, summary: CaseRoomPlan['summary'], invited: string[]): Promise<void> {
    const txnId = `carehub-case-summary-${createHash('sha256').update(`${roomId}\n${[...invited].sort().join('\n')}`).digest('hex').slice(0, 24)}`;
    const eventId = await this.sender.sendEncrypted(roomId, EventType.RoomMessage, this.renderSummary(summary), txnId);
    await this.bot.sendStateEvent(roomId, EventType.RoomPinnedEvents as never, { pinned: [eventId] } as never, '');
  }

  /** The summary (who the case is about), encrypted and pinned, once per room. */
  private async pinSummary(roomId: string, summary: CaseRoomPlan['summary']): Promise<void> {
    await this.rooms.pinOnce(roomId, () => {
      const txnId = `carehub-case-summary-${createHash('sha256').update(roomId).digest('hex').slice(0, 24)}`;
      return this.sender.sendEncrypted(roomId, EventType.RoomMessage, this.renderSummary(summary), txnId);
    });
  }

  /** Removes (or bans) a member, with the reason Matrix shows; the next message gets a new room key. */
  async remove(roomId: string, userId: string, reason: string, ban = false): Promise<void> {
    if (ban) await this.bot.ban(roomId, userId, reason);
    else await this.bot.kick(roomId, userId, reason);
  }

  /** Removes every member but the bot (a closed case after its retention); returns who was removed. */
  async removeEveryone(roomId: string, reason: string): Promise<string[]> {
    const room = this.bot.getRoom(roomId);
    const members = room ? [...joinedOrInvited(room)].filter((user) => user !== this.bot.getUserId()) : [];
    for (const user of members) await this.bot.kick(roomId, user, reason);
    return members;
  }

  /**
   * Sets the room's power levels (moderation: mute, lock, open hours) unless they already are
   * these. Asked of the homeserver, not the bot's sync: the sync can still show the levels from
   * before the bot's own last change, and a change judged against those would be skipped.
   */
  async setPowerLevels(roomId: string, powerLevels: PowerLevels): Promise<void> {
    const current = (await this.bot.getStateEvent(roomId, EventType.RoomPowerLevels, '')) as Record<string, unknown>;
    if (!samePowerLevels(current, powerLevels)) await this.bot.sendStateEvent(roomId, EventType.RoomPowerLevels, powerLevels as never, '');
  }

  /**
   * Sets a widget (a meeting's link) in the room's `im.vector.modular.widgets` state under
   * `stateKey`, unless the bot's sync shows it set so already. State is not encrypted: `content`
   * must hold no patient data.
   */
  async setWidget(roomId: string, stateKey: string, content: Record<string, unknown>): Promise<void> {
    const current = this.bot.getRoom(roomId)?.currentState.getStateEvents(WIDGET_STATE, stateKey)?.getContent();
    if (current && JSON.stringify(sorted(current)) === JSON.stringify(sorted(content))) return;
    await this.bot.sendStateEvent(roomId, WIDGET_STATE as never, content as never, stateKey);
  }

  /** Removes a widget (a cancelled meeting): its state emptied, as Element removes one. */
  async removeWidget(roomId: string, stateKey: string): Promise<void> {
    const current = this.bot.getRoom(roomId)?.currentState.getStateEvents(WIDGET_STATE, stateKey)?.getContent();
    if (current && Object.keys(current).length === 0) return;
    await this.bot.sendStateEvent(roomId, WIDGET_STATE as never, {} as never, stateKey);
  }

  /** Redacts an event (a moderator's `!redact`, or their reply to it), at any time. */
  async redact(roomId: string, eventId: string, reason: string): Promise<void> {
    await this.bot.redactEvent(roomId, eventId, undefined, { reason });
  }
}
