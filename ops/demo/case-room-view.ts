import { MatrixError, RoomMemberEvent } from 'matrix-js-sdk';
import { CAREHUB_ROOM_STATE } from '../../matrix-bridge/src/room-state.js';
import type { GpMatrixClient } from '../lib/gp-matrix-client.js';

/** Polls `probe` until it gives a value; fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The room power levels as the homeserver stores them (asked over HTTP, not from the client's sync). */
export interface StoredPowerLevels {
  users: Record<string, number>;
  events_default: number;
}

/**
 * What one member's own Matrix client tells about the case room: its state as the homeserver
 * holds it (unencrypted), who invited this member, and whether a message of theirs is taken.
 */
export class CaseRoomView {
  /** Who invited this client's user, by room: the sender of each invitation it saw. */
  private readonly inviters = new Map<string, string>();

  constructor(readonly member: GpMatrixClient) {
    member.client.on(RoomMemberEvent.Membership, (event, roomMember) => {
      if (roomMember.userId === member.userId && roomMember.membership === 'invite') this.inviters.set(roomMember.roomId, event.getSender()!);
    });
  }

  /** Who sent this member's invitation into the room, if this client saw it. */
  inviterOf(roomId: string): string | undefined {
    return this.inviters.get(roomId);
  }

  /** Waits until this member has joined a case room (the client accepts invitations as Element does when told to); its id. */
  async joinedCaseRoom(careTeam?: string): Promise<string> {
    return until(`${this.member.userId} in a case room`, () =>
      this.member.client.getRooms().find((room) => {
        const state = room.currentState.getStateEvents(CAREHUB_ROOM_STATE, '')?.getContent();
        return room.getMyMembership() === 'join' && state?.['kind'] === 'case' && (careTeam === undefined || state['careTeam'] === careTeam);
      })?.roomId,
    );
  }

  /** The room's `org.carehub.room` state as this client holds it. */
  roomState(roomId: string): Record<string, unknown> | undefined {
    return this.member.client.getRoom(roomId)?.currentState.getStateEvents(CAREHUB_ROOM_STATE, '')?.getContent();
  }

  /** A state event's content as the homeserver stores it (not end-to-end encrypted: what its operators can read). */
  async storedState(roomId: string, type: string, stateKey = ''): Promise<Record<string, unknown>> {
    return (await this.member.client.getStateEvent(roomId, type, stateKey)) as Record<string, unknown>;
  }

  async powerLevels(roomId: string): Promise<StoredPowerLevels> {
    return (await this.storedState(roomId, 'm.room.power_levels')) as unknown as StoredPowerLevels;
  }

  /** Sends a message; resolves with the homeserver's refusal (errcode, HTTP status, its words), or undefined if it was taken. */
  async trySay(roomId: string, body: string): Promise<{ errcode: string; httpStatus: number; error: string } | undefined> {
    try {
      await this.member.say(roomId, body);
      return undefined;
    } catch (error) {
      if (!(error instanceof MatrixError)) throw error;
      return { errcode: error.errcode ?? '(none)', httpStatus: error.httpStatus ?? 0, error: error.data.error ?? error.message };
    }
  }
}
