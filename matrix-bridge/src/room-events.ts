import { MatrixEventEvent, RoomEvent, RoomStateEvent, type MatrixClient, type MatrixEvent, type Room, type RoomState } from 'matrix-js-sdk';
import { DecryptionFailureCode } from 'matrix-js-sdk/lib/crypto-api/index.js';
import type { Logger } from 'pino';
import type { AnyRoomKind, KindEvent, ReadReceipt } from './room-kind.js';
import { CAREHUB_ROOM_STATE } from './room-state.js';

/** The events a content's m.relates_to points at: thread root, then reply, reaction or reference target. */
export function relatedEventIds(content: Record<string, unknown>): string[] {
  const relation = content['m.relates_to'] as { rel_type?: string; event_id?: string; 'm.in_reply_to'?: { event_id?: string } } | undefined;
  if (!relation) return [];
  const ids = [relation.rel_type === 'm.thread' ? relation.event_id : undefined, relation['m.in_reply_to']?.event_id, relation.rel_type !== 'm.thread' ? relation.event_id : undefined];
  return [...new Set(ids.filter((id): id is string => typeof id === 'string'))];
}

/** A room's kind, and its state as that kind read it. */
interface KnownRoom {
  kind: AnyRoomKind;
  state: unknown;
}

/** The kind (of `kinds`) whose state event `content` is, with that state; undefined if none claims it. */
export function kindOfRoomState(kinds: readonly AnyRoomKind[], content: Record<string, unknown> | undefined): KnownRoom | undefined {
  for (const kind of kinds) {
    const state = kind.stateOf(content);
    if (state !== undefined) return { kind, state };
  }
  return undefined;
}

const DECRYPTION_WAIT_MS = 60_000;
const RETRY_DELAYS_MS = [500, 2000, 5000, 15_000, 30_000];

/**
 * Feeds what members do in CareHub rooms (messages, reactions, read receipts) to the handlers of
 * each room's kind, one room at a time and in timeline order. A room's kind is found from its own
 * `org.carehub.room` state, so nothing about rooms has to be remembered across restarts: at
 * start-up the sync replays each room's recent events, and the handlers (idempotent by event id)
 * act on what they missed while the hub was down.
 */
export class RoomEvents {
  /** Each CareHub room's kind, by room id: built from room state after the first sync, kept current by state events. */
  private readonly rooms = new Map<string, KnownRoom>();
  private readonly perRoom = new Map<string, Promise<void>>();
  private stopped = false;
  /** Ends waits (for keys, before a retry) at shutdown; unfinished events are replayed at the next start. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly bot: MatrixClient,
    private readonly kinds: readonly AnyRoomKind[],
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.bot.on(RoomEvent.Timeline, this.onTimeline);
    this.bot.on(RoomEvent.Receipt, this.onReceipt);
    this.bot.on(RoomStateEvent.Events, this.onState);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    this.bot.off(RoomEvent.Timeline, this.onTimeline);
    this.bot.off(RoomEvent.Receipt, this.onReceipt);
    this.bot.off(RoomStateEvent.Events, this.onState);
    await Promise.allSettled([...this.perRoom.values()]);
  }

  /** Finds every synced room's kind from its state (call after the first sync) and logs how many of each there are. */
  recogniseRooms(): void {
    const roomsByKind: Record<string, number> = Object.fromEntries(this.kinds.map((k) => [k.kind, 0]));
    let otherRooms = 0;
    for (const room of this.bot.getRooms()) {
      const known = this.recognise(room);
      if (known) roomsByKind[known.kind.kind] = (roomsByKind[known.kind.kind] ?? 0) + 1;
      else otherRooms++;
    }
    this.logger.info({ roomsByKind, otherRooms }, 'found the kind of each room from its CareHub state');
  }

  /** The room's kind, read from its current `org.carehub.room` state (and remembered) if not known yet. */
  private kindOf(room: Room): KnownRoom | undefined {
    return this.rooms.get(room.roomId) ?? this.recognise(room);
  }

  private recognise(room: Room): KnownRoom | undefined {
    return this.remember(room.roomId, room.currentState.getStateEvents(CAREHUB_ROOM_STATE, '')?.getContent());
  }

  private remember(roomId: string, content: Record<string, unknown> | undefined): KnownRoom | undefined {
    const known = kindOfRoomState(this.kinds, content);
    if (known) this.rooms.set(roomId, known);
    else this.rooms.delete(roomId);
    return known;
  }

  /** A room's CareHub state changed (or arrived with the room): its kind is read again. */
  private readonly onState = (event: MatrixEvent, state: RoomState) => {
    if (event.getType() !== CAREHUB_ROOM_STATE || event.getStateKey() !== '') return;
    // State met paginating backwards into a room's history is not its current state.
    const room = this.bot.getRoom(state.roomId);
    if (room && room.currentState !== state) return;
    this.remember(state.roomId, event.getContent());
  };

  /** What an event is about, and what the first of those (if the bot has it) is about in turn. */
  private relatesTo(room: Room, content: Record<string, unknown>): string[] {
    const direct = relatedEventIds(content);
    const target = direct[0] ? room.findEventById(direct[0]) : undefined;
    return [...new Set([...direct, ...(target ? relatedEventIds(target.getContent()) : [])])];
  }

  private botContentOf(room: Room, eventId: string): Record<string, unknown> | undefined {
    const event = room.findEventById(eventId);
    return event?.getSender() === this.bot.getUserId() ? event!.getContent() : undefined;
  }

  /** Hands an event to its room kind's handler for the event's kind. */
  private async dispatch(kind: AnyRoomKind, event: KindEvent): Promise<void> {
    const handler = kind.handlers[event.happening.kind] as ((event: KindEvent) => Promise<void>) | undefined;
    if (!handler) {
      this.logger.debug({ roomId: event.roomId, roomKind: kind.kind, kind: event.happening.kind }, 'the room kind has no handler for this kind of event');
      return;
    }
    await handler(event);
  }

  private readonly onTimeline = (event: MatrixEvent, room: Room | undefined, toStartOfTimeline: boolean | undefined) => {
    if (toStartOfTimeline || !room || event.getSender() === this.bot.getUserId()) return;
    const known = this.kindOf(room);
    if (!known) return;
    if (event.isState()) {
      this.onStateChange(known.kind, room, event);
      return;
    }
    this.enqueue(room.roomId, async () => {
      const decrypted = await this.decrypted(event);
      if (!decrypted) return;
      const content = event.getContent();
      const relatesTo = this.relatesTo(room, content);
      const read = known.kind.readTimelineEvent({ type: event.getType(), content, relatesTo, botContentOf: (id) => this.botContentOf(room, id) });
      if (!read) return;
      await this.dispatch(known.kind, { roomId: room.roomId, eventId: event.getId()!, sender: event.getSender()!, eventType: event.getType(), relatesTo, ...read });
    });
  };

  /** A member's state event in the timeline (state is never encrypted), for kinds that read them. */
  private onStateChange(kind: AnyRoomKind, room: Room, event: MatrixEvent): void {
    const read = kind.readStateEvent?.({ type: event.getType(), stateKey: event.getStateKey()!, content: event.getContent(), previousContent: event.getPrevContent() });
    if (!read) return;
    this.enqueue(room.roomId, () => this.dispatch(kind, { roomId: room.roomId, eventId: event.getId()!, sender: event.getSender()!, eventType: event.getType(), relatesTo: [], ...read }));
  }

  private readonly onReceipt = (event: MatrixEvent, room: Room) => {
    const known = this.kindOf(room);
    if (!known?.kind.handlers['read']) return;
    const content = event.getContent<Record<string, { 'm.read'?: Record<string, { thread_id?: string }> }>>();
    for (const [upTo, receipt] of Object.entries(content)) {
      for (const [userId, { thread_id: threadId }] of Object.entries(receipt['m.read'] ?? {})) {
        if (userId === this.bot.getUserId()) continue;
        // A threaded receipt (MSC3771) names its thread's root; "main" is the room's own timeline.
        const relatesTo = [upTo, ...(threadId && threadId !== 'main' ? [threadId] : [])];
        const happening: ReadReceipt = { kind: 'read', upTo };
        this.enqueue(room.roomId, () =>
          this.dispatch(known.kind, { roomId: room.roomId, eventId: `receipt:${room.roomId}:${userId}:${upTo}`, sender: userId, eventType: 'm.receipt', relatesTo, happening }),
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
