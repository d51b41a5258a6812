import { RoomMemberEvent, type MatrixClient, type MatrixEvent, type RoomMember } from 'matrix-js-sdk';
import type { Logger } from 'pino';
import { untilRoomInSync } from './room-sender.js';
import { CAREHUB_ROOM_STATE } from './room-state.js';

/**
 * Invitations of the bot into direct chats. A member of the network (whom `mayChat` accepts: a
 * directory user) who starts a chat with the bot gets it: the bot joins and marks the room as a
 * direct chat (`org.carehub.room` {kind: 'direct', user}), which Element's "Start chat" lets it
 * do (its DMs make the invitee as powerful as the creator). Anyone else's invitation is declined.
 * Invitations that came while the hub was down are taken at start-up.
 */
export class DirectChats {
  constructor(
    private readonly bot: MatrixClient,
    private readonly mayChat: (userId: string) => Promise<boolean>,
    /** Called once a chat is marked: the hub greets the member (through its outbox). */
    private readonly started: (roomId: string, userId: string) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.bot.on(RoomMemberEvent.Membership, this.onMembership);
    for (const room of this.bot.getRooms()) {
      if (room.getMyMembership() !== 'invite') continue;
      const inviter = room.getMember(this.bot.getUserId()!)?.events.member?.getSender();
      if (inviter) void this.accept(room.roomId, inviter);
    }
  }

  stop(): void {
    this.bot.off(RoomMemberEvent.Membership, this.onMembership);
  }

  private readonly onMembership = (event: MatrixEvent, member: RoomMember) => {
    if (member.userId !== this.bot.getUserId() || member.membership !== 'invite') return;
    void this.accept(member.roomId, event.getSender()!);
  };

  private async accept(roomId: string, inviter: string): Promise<void> {
    try {
      if (!(await this.mayChat(inviter))) {
        await this.bot.leave(roomId);
        this.logger.info({ roomId }, 'declined an invitation from someone not in the directory');
        return;
      }
      await this.bot.joinRoom(roomId);
      await untilRoomInSync(this.bot, roomId);
      const room = this.bot.getRoom(roomId)!;
      if (room.currentState.getStateEvents(CAREHUB_ROOM_STATE, '')) return;
      if (!room.currentState.maySendStateEvent(CAREHUB_ROOM_STATE, this.bot.getUserId()!)) {
        this.logger.info({ roomId }, 'joined a chat the bot may not mark as a direct chat; it stays unread');
        return;
      }
      await this.bot.sendStateEvent(roomId, CAREHUB_ROOM_STATE as never, { kind: 'direct', user: inviter } as never, '');
      await this.started(roomId, inviter);
      this.logger.info({ roomId }, 'direct chat started');
    } catch (error) {
      this.logger.warn({ roomId, err: (error as Error).message }, 'could not take up an invitation');
    }
  }
}
