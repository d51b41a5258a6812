import { MatrixEventEvent, RoomEvent, type MatrixClient, type MatrixEvent, type Room } from 'matrix-js-sdk';
import { DecryptionFailureCode } from 'matrix-js-sdk/lib/crypto-api/index.js';
import type { Logger } from 'pino';
import { parseAnswerEvent, type ReferralAnswer } from './referral-answer.js';
import { asReferralsRoomState, CAREHUB_DOCUMENT_KEY, CAREHUB_MESSAGE_KEY, CAREHUB_ROOM_STATE, type ReferralsRoomState } from './room-state.js';

/** Something a member did in a CareHub room that the hub may have to act on. */
export interface ReferralRoomEvent {
  roomId: string;
  /** The Matrix event id; for a read receipt, a stable id of that user's first receipt in the room. */
  eventId: string;
  sender: string;
  /** The Matrix event type (`m.room.message`, `m.reaction`; `m.receipt` for a read receipt). */
  eventType: string;
  /**
   * The events this one is about, which tie it to a referral: its thread's root, the event it
   * replies or reacts to (and, one step on, what that event is about). For a read receipt, the
   * event read and its thread's root.
   */
  relatesTo: string[];
  /**
   * "Task/<id>" of the referral, when one of those events is the bot's own and says so in its
   * (encrypted) content: known from the room itself, even before the hub has recorded the send.
   */
  referral?: string;
  happening: ReferralAnswer | { kind: 'read'; /** the event the receipt marks as read */ upTo: string };
}

/** The events a content's m.relates_to points at: thread root, then reply, reaction or reference target. */
export function relatedEventIds(content: Record<string, unknown>): string[] {
  const relation = content['m.relates_to'] as { rel_type?: string; event_id?: string; 'm.in_reply_to'?: { event_id?: string } } | undefined;
  if (!relation) return [];
  const ids = [relation.rel_type === 'm.thread' ? relation.event_id : undefined, relation['m.in_reply_to']?.event_id, relation.rel_type !== 'm.thread' ? relation.event_id : undefined];
  return [...new Set(ids.filter((id): id is string => typeof id === 'string'))];
}

export type ReferralRoomEventHandler = (event: ReferralRoomEvent) => Promise<void>;

const DECRYPTION_WAIT_MS = 60_000;
const RETRY_DELAYS_MS = [500, 2000, 5000, 15_000, 30_000];

/**
 * Feeds what members do in CareHub rooms (messages, reactions, read receipts) to the hub, one
 * room at a time and in timeline order. Rooms are recognised by their own `org.carehub.room`
 * state, so nothing about them has to be remembered across restarts: at start-up the sync
 * replays each room's recent events, and the handler (idempotent by event id) acts on what it
 * missed while the hub was down.
 */
export class ReferralRoomEvents {
  private readonly perRoom = new Map<string, Promise<void>>();
  private stopped = false;
  /** Ends waits (for keys, before a retry) at shutdown; unfinished events are replayed at the next start. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly bot: MatrixClient,
    private readonly handle: ReferralRoomEventHandler,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.bot.on(RoomEvent.Timeline, this.onTimeline);
    this.bot.on(RoomEvent.Receipt, this.onReceipt);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    this.bot.off(RoomEvent.Timeline, this.onTimeline);
    this.bot.off(RoomEvent.Receipt, this.onReceipt);
    await Promise.allSettled([...this.perRoom.values()]);
  }

  private stateOf(room: Room | undefined): ReferralsRoomState | undefined {
    return asReferralsRoomState(room?.currentState.getStateEvents(CAREHUB_ROOM_STATE, '')?.getContent());
  }

  /** What an event is about, and what the first of those (if the bot has it) is about in turn. */
  private relatesTo(room: Room, content: Record<string, unknown>): string[] {
    const direct = relatedEventIds(content);
    const target = direct[0] ? room.findEventById(direct[0]) : undefined;
    return [...new Set([...direct, ...(target ? relatedEventIds(target.getContent()) : [])])];
  }

  /** The referral the first of `eventIds` sent by the bot names in its content (message, file, document). */
  private referralNamedBy(room: Room, eventIds: string[]): string | undefined {
    for (const id of eventIds) {
      const event = room.findEventById(id);
      if (event?.getSender() !== this.bot.getUserId()) continue;
      const content = event.getContent();
      const task = content[CAREHUB_MESSAGE_KEY]?.task ?? content[CAREHUB_DOCUMENT_KEY]?.task;
      if (typeof task === 'string') return task;
    }
    return undefined;
  }

  private readonly onTimeline = (event: MatrixEvent, room: Room | undefined, toStartOfTimeline: boolean | undefined) => {
    if (toStartOfTimeline || !room || event.getSender() === this.bot.getUserId() || event.isState()) return;
    const state = this.stateOf(room);
    if (!state) return;
    this.enqueue(room.roomId, async () => {
      const decrypted = await this.decrypted(event);
      if (!decrypted) return;
      const happening = parseAnswerEvent(event.getType(), event.getContent());
      if (happening.kind === 'ignored') return;
      const relatesTo = this.relatesTo(room, event.getContent());
      const referral = this.referralNamedBy(room, relatesTo);
      await this.handle({ roomId: room.roomId, eventId: event.getId()!, sender: event.getSender()!, eventType: event.getType(), relatesTo, ...(referral ? { referral } : {}), happening });
    });
  };

  private readonly onReceipt = (event: MatrixEvent, room: Room) => {
    const state = this.stateOf(room);
    if (!state) return;
    const content = event.getContent<Record<string, { 'm.read'?: Record<string, { thread_id?: string }> }>>();
    for (const [upTo, receipt] of Object.entries(content)) {
      for (const [userId, { thread_id: threadId }] of Object.entries(receipt['m.read'] ?? {})) {
        if (userId === this.bot.getUserId()) continue;
        // A threaded receipt (MSC3771) names its thread's root; "main" is the room's own timeline.
        const relatesTo = [upTo, ...(threadId && threadId !== 'main' ? [threadId] : [])];
        this.enqueue(room.roomId, () =>
          this.handle({ roomId: room.roomId, eventId: `receipt:${room.roomId}:${userId}:${upTo}`, sender: userId, eventType: 'm.receipt', relatesTo, happening: { kind: 'read', upTo } }),
        );
      }
    }
  };

  /** Waits for an encrypted event's keys (they may arrive after the event); false if they never do. */
  private async decrypted(event: MatrixEvent): Promise<boolean> {
    await this.bot.decryptEventIfNeeded(event);
    if (!event.isDecryptionFailure()) return true;
    // With `cross-signed` key sharing the bot reads nothing from a device its owner has not
    // verified either; no key is on its way, so waiting would only hold up the room's later events.
    if (event.decryptionFailureReason === DecryptionFailureCode.UNSIGNED_SENDER_DEVICE) {
      this.logger.info({ roomId: event.getRoomId(), eventId: event.getId(), sender: event.getSender() }, 'an event from an unverified device was not read (cross-signed key sharing)');
      return false;
    }
    this.logger.debug({ roomId: event.getRoomId(), eventId: event.getId(), sender: event.getSender() }, 'waiting for the keys of an event');
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stopping.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, DECRYPTION_WAIT_MS);
      this.stopping.signal.addEventListener('abort', done);
      event.once(MatrixEventEvent.Decrypted, done);
    });
    if (this.stopped) return false;
    if (event.isDecryptionFailure()) {
      // Not recorded as handled: the next start-up's replay tries again.
      this.logger.warn({ roomId: event.getRoomId(), eventId: event.getId() }, 'an event in a CareHub room could not be decrypted; skipped for now');
      return false;
    }
    return true;
  }

  /** Runs work for a room after the room's earlier work, retrying a failure a few times. */
  private enqueue(roomId: string, work: () => Promise<void>): void {
    const previous = this.perRoom.get(roomId) ?? Promise.resolve();
    const next = previous.then(async () => {
      for (let attempt = 0; !this.stopped; attempt++) {
        try {
          return await work();
        } catch (error) {
          const delay = RETRY_DELAYS_MS[attempt];
          if (delay === undefined) {
            this.logger.error({ roomId, err: error }, 'gave up acting on a room event; it is tried again at the next start-up');
            return;
          }
          this.logger.warn({ roomId, err: (error as Error).message, attempt }, 'acting on a room event failed; retrying');
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, delay);
            this.stopping.signal.addEventListener('abort', () => {
              clearTimeout(timer);
              resolve();
            });
          });
        }
      }
    });
    this.perRoom.set(roomId, next);
    void next.finally(() => {
      if (this.perRoom.get(roomId) === next) this.perRoom.delete(roomId);
    });
  }
}
