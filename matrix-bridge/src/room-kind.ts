// What a kind of CareHub room is (matrix-hookshot's IConnection is the model): one unit per room
// type that says which `org.carehub.room` state event marks it, which of its members' events it
// wants, and what it does with each. The referral room (referral-room-kind.ts) is the first kind.

/** What every event a room kind acts on carries, whatever the kind. */
export interface RoomEventBase {
  roomId: string;
  /** The Matrix event id; for a read receipt, a stable id of that user's receipt in the room. */
  eventId: string;
  sender: string;
  /** The Matrix event type (`m.room.message`, `m.reaction`; `m.receipt` for a read receipt). */
  eventType: string;
  /**
   * The events this one is about: its thread's root, the event it replies or reacts to (and, one
   * step on, what that event is about). For a read receipt, the event read and its thread's root.
   */
  relatesTo: string[];
}

/** A member's read receipt: the event it marks as read. Offered to kinds whose handlers take `read`. */
export interface ReadReceipt {
  kind: 'read';
  upTo: string;
}

/** A room event as a kind's handlers receive it: `happening` says what it is, by its `kind`. */
export type KindEvent = RoomEventBase & { happening: { kind: string } };

/** What a kind does with each kind of event it reads: a handler per `happening.kind`, typed by it. */
export type RoomEventHandlers<E extends KindEvent> = {
  [K in E['happening']['kind']]: (event: E & { happening: Extract<E['happening'], { kind: K }> }) => Promise<void>;
};

/** A member's decrypted timeline event, as a room kind reads it. */
export interface TimelineEvent {
  type: string;
  content: Record<string, unknown>;
  relatesTo: string[];
  /** The content of the bot's own event `eventId` in the room, if the bot's sync has it. */
  botContentOf(eventId: string): Record<string, unknown> | undefined;
}

/** A state event a member (not the bot) sent: a membership change, new power levels. */
export interface StateChange {
  type: string;
  stateKey: string;
  content: Record<string, unknown>;
  /** The content it replaced, if the bot's sync has it. */
  previousContent: Record<string, unknown> | undefined;
}

/** The m.room.power_levels content a kind gives its rooms (Matrix spec §10.5). */
export interface PowerLevels {
  users: Record<string, number>;
  users_default: number;
  events_default: number;
  state_default: number;
  invite: number;
  kick: number;
  ban: number;
  redact: number;
  events: Record<string, number>;
}

/**
 * Who belongs in a kind's rooms and how they come in. Who the members are is the caller's to say
 * (for a referral room, the recipient's Matrix users in the directory); the policy says what
 * settling the room does with that list, and the join rules the room is created with.
 */
export interface MembershipPolicy {
  joinRule: 'invite' | 'knock';
  guestAccess: 'forbidden' | 'can_join';
  /** From when a member can read the room: 'invited' keeps earlier events from anyone added later. */
  historyVisibility: 'invited' | 'joined' | 'shared';
  /** Members no longer among those the caller names are removed, with this reason; undefined: they stay. */
  removeOthers?: string;
}

/**
 * One kind of CareHub room. The Matrix side (state, reading events, membership, power levels,
 * commands) is the bridge's; the handlers are supplied by whoever acts on the events (the hub).
 */
export interface RoomKind<State, E extends KindEvent, Command extends string = string> {
  /** The `kind` value of the room's `org.carehub.room` state event. */
  readonly kind: string;
  /** The room's state, if `content` (of its `org.carehub.room` event) marks a room of this kind. FHIR ids only, never patient data. */
  stateOf(content: Record<string, unknown> | undefined): State | undefined;
  /** What a member's timeline event means in this kind of room; undefined for events it does not want. */
  readTimelineEvent(event: TimelineEvent): Omit<E, keyof RoomEventBase> | undefined;
  /**
   * What a member's state event means (someone left or was removed with the plain Matrix API, a
   * moderator changed power levels in Element), for kinds that follow such changes; absent: none are read.
   */
  readStateEvent?(event: StateChange): Omit<E, keyof RoomEventBase> | undefined;
  handlers: RoomEventHandlers<E>;
  membership: MembershipPolicy;
  /** The power levels a room of this kind is created with; the bot holds `botUserId`'s. */
  powerLevels(state: State, botUserId: string): PowerLevels;
  /** The words (and emoji) a member may type or react with, and what each means. */
  commands: Readonly<Record<string, Command>>;
}

/** The Matrix side of a kind, before the handlers are supplied. */
export type RoomKindWithoutHandlers<State, E extends KindEvent, Command extends string = string> = Omit<RoomKind<State, E, Command>, 'handlers'>;

/**
 * Any kind, as the dispatcher holds them side by side: it reads a room's state with the kind's
 * `stateOf` and hands each event to the handler its `happening.kind` names (each RoomKind is one).
 */
export interface AnyRoomKind {
  readonly kind: string;
  stateOf(content: Record<string, unknown> | undefined): unknown;
  readTimelineEvent(event: TimelineEvent): { happening: { kind: string } } | undefined;
  readStateEvent?(event: StateChange): { happening: { kind: string } } | undefined;
  readonly handlers: { readonly [kind: string]: ((event: never) => Promise<void>) | undefined };
}
