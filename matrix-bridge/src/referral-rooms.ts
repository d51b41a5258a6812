import { EventType, Preset, Visibility, type ICreateRoomOpts, type MatrixClient } from 'matrix-js-sdk';
import { createHash } from 'node:crypto';
import { REFERRAL_ROOM, type ReferralsRoomState } from './referral-room-kind.js';
import { renderRoomIntro } from './room-notice.js';
import type { RoomSender } from './room-sender.js';
import { initialRoomState, RoomsByAlias, settleMembers, waitUntilReadyToEncrypt } from './room-settling.js';

/** "carehub-referrals-<hash of requester and owner>": stable for a pair, opaque to anyone reading it. */
function aliasLocalpart(state: ReferralsRoomState): string {
  return `carehub-referrals-${createHash('sha256').update(`${state.requester ?? ''}\n${state.owner}`).digest('hex').slice(0, 32)}`;
}

/**
 * The rooms referrals travel in: one room per sender and recipient (the Task's requester and
 * owner), each referral a thread in it. A GP practice sees one room per clinic that refers to
 * it, not one per patient, and the hub sends into rooms that exist instead of creating one per
 * referral (room creation is what limits a homeserver's pace: docs/decisions/0006).
 * The room's alias is derived from the pair, which makes creating it idempotent: a retry after a
 * crash, or a second worker, finds the room instead of making another.
 */
export class ReferralRooms {
  /** Found by alias (a delivery into a known room costs no directory lookup), settled in turns, intro pinned once. */
  private readonly rooms: RoomsByAlias;

  constructor(
    private readonly bot: MatrixClient,
    private readonly serverName: string,
    /** What the bot sends with (the room's pinned intro, here). */
    private readonly sender: RoomSender,
  ) {
    this.rooms = new RoomsByAlias(bot);
  }

  /** The alias of a sender/recipient pair's room: a hash, so no FHIR id or name is spelled out. */
  aliasFor(state: ReferralsRoomState): string {
    return `#${aliasLocalpart(state)}:${this.serverName}`;
  }

  /**
   * The pair's room, created if needed, whose members are exactly the bot and `invitees`: the
   * missing are invited and anyone no longer among the recipient's Matrix users is removed
   * (which rotates the room key before the next referral). `title` names the sender in the
   * room's name, which is not encrypted: an organisation's name, never a patient's.
   */
  async ensureRoom(state: ReferralsRoomState, invitees: string[], title: string | undefined): Promise<string> {
    const alias = this.aliasFor(state);
    // One worker at a time per pair: concurrent creations would each make a room.
    return this.rooms.inTurn(alias, () => this.settleRoom(alias, state, invitees, title));
  }

  private async settleRoom(alias: string, state: ReferralsRoomState, invitees: string[], title: string | undefined): Promise<string> {
    const { roomId, created } = await this.rooms.findOrCreate(alias, () => this.roomOptions(state, invitees, title));
    if (!created) await settleMembers(this.bot, roomId, invitees, REFERRAL_ROOM.membership.removeOthers);
    await waitUntilReadyToEncrypt(this.bot, roomId, invitees);
    await this.pinIntro(roomId, title);
    return roomId;
  }

  /**
   * The room's first pinned message says what the room is and how to answer, readable on every
   * device (it holds no patient data), so a GP on a login that cannot read referrals yet learns
   * what to do. Sent once per room: a pin already there is left as it is.
   */
  private async pinIntro(roomId: string, title: string | undefined): Promise<void> {
    await this.rooms.pinOnce(roomId, () => {
      const txnId = `carehub-intro-${createHash('sha256').update(roomId).digest('hex').slice(0, 24)}`;
      return this.sender.sendEncrypted(roomId, EventType.RoomMessage, renderRoomIntro(title), txnId, { kind: 'every-device' });
    });
  }

  private roomOptions(state: ReferralsRoomState, invitees: string[], title: string | undefined): ICreateRoomOpts {
    const botId = this.bot.getUserId()!;
    const membership = REFERRAL_ROOM.membership;
    return {
      visibility: Visibility.Private,
      // Not trusted_private_chat: with room version 12 that would make every invitee a creator
      // with unchangeable power.
      preset: Preset.PrivateChat,
      room_alias_name: aliasLocalpart(state),
      // Room names are not encrypted: the sender's name, never a patient's.
      name: title ? `CareHub referrals from ${title}` : 'CareHub referrals',
      topic: 'Each referral is a thread: answer in it with ✅ / ❌ reason / done, or type "help".',
      invite: invitees,
      initial_state: initialRoomState(membership, { ...state }),
      power_level_content_override: REFERRAL_ROOM.powerLevels(state, botId),
    };
  }
}
