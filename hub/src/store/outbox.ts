import type { Queryable } from './database.js';

/** A short message from the bot into a referral room (a confirmation, a refusal, a change). */
export interface RoomNotice {
  /** Empty for a bare processing status. */
  text: string;
  /** The event the notice answers, shown as a reply in clients. */
  inReplyTo?: string;
  /**
   * The hub's processing status for that event (gematik MSC4300 `de.gematik.response.status`):
   * whether the hub could act on it.
   */
  status?: 'success' | 'error';
  /**
   * Shared with every device of the room's members, also those the key-sharing policy excludes:
   * only for notices without patient data that such a device must read (a referral waits).
   */
  everyDevice?: true;
  /**
   * Whether the text is a reply to `inReplyTo` (the default) or, in the referral's thread, to the
   * referral itself: a reaction is no message to reply to (clients cannot show such a quote).
   */
  replyTo?: 'event' | 'referral';
}

/** The kinds of work the outbox carries, with the payload each one needs. */
export interface OutboxTopics {
  /** Put a referral (a Task with its ServiceRequest) into the recipient's Matrix room. */
  'referral.deliver': { taskId: string };
  /** Send a referral again, in its thread, for a recipient none of whose devices could read it before. */
  'referral.resend': { taskId: string; userId: string };
  /** Show the ServiceRequest's current version in the room, as an edit of the referral message. */
  'referral.edit': { taskId: string };
  /**
   * A notice from the bot: in the referral's thread, or (no taskId) at the top of a room, for a
   * message the hub could not tie to one referral.
   */
  'room.notice': { taskId: string; notice: RoomNotice } | { roomId: string; notice: RoomNotice };
  /** Put a document (a DocumentReference's Binary) into the room of the referral it belongs to. */
  'document.deliver': { taskId: string; documentReferenceId: string };
  /** Make a case's room match its CareTeam and moderation: create it, invite, remove, power levels. */
  'case.settle': { careTeamId: string };
  /** A closed case: its room's transcript, decrypted by the bot, stored as documents linked to the CareTeam. */
  'case.export': { careTeamId: string };
  /** A closed case after its retention: remove the members, purge the room from the homeserver. */
  'case.purge': { careTeamId: string };
  /** Say an integrator's Communication in the room of the case it is sent to, or in the thread of the referral it is about. */
  'communication.post': { communicationId: string } & ({ careTeamId: string } | { taskId: string });
  /** A case meeting (an Appointment linked to the case) in its room: the invitation and widget, a change, or the cancellation. */
  'case.meeting': { appointmentId: string; careTeamId: string };
  /** A case guest's one-time link, made at sending (only its hash is kept) and sent to the inviting moderator's direct chat. */
  'case.guest-link': { guestId: string };
  /** A case guest's access ended: their account on the homeserver is deactivated. */
  'case.guest-end': { guestId: string };
  /** Re-encrypt one stored document to the current storage key (after a key rotation). */
  'binary.reencrypt': { contentId: string };
  /** Tell a Subscription's endpoint that a resource changed (FHIR R4 rest-hook). */
  'subscription.notify': { subscriptionId: string; resourceType: string; resourceId: string; versionId: string };
}
export type OutboxTopic = keyof OutboxTopics;

export interface OutboxRow<K extends OutboxTopic = OutboxTopic> {
  id: string;
  topic: K;
  payload: OutboxTopics[K];
  completedAt: Date | null;
}

/** Adds a row; call it with the transaction that makes the change the row is about. */
export async function addOutboxRow<K extends OutboxTopic>(db: Queryable, topic: K, payload: OutboxTopics[K]): Promise<string> {
  const result = await db.query<{ id: string }>('INSERT INTO outbox (topic, payload) VALUES ($1, $2) RETURNING id', [topic, payload]);
  return result.rows[0]!.id;
}

/** Reads and locks a row, so one worker at a time finishes it. */
export async function lockOutboxRow(db: Queryable, id: string): Promise<OutboxRow | undefined> {
  const result = await db.query<{ id: string; topic: OutboxTopic; payload: OutboxTopics[OutboxTopic]; completed_at: Date | null }>(
    'SELECT id, topic, payload, completed_at FROM outbox WHERE id = $1 FOR UPDATE',
    [id],
  );
  const row = result.rows[0];
  return row && { id: row.id, topic: row.topic, payload: row.payload, completedAt: row.completed_at };
}

export async function isOutboxRowOpen(db: Queryable, id: string): Promise<boolean> {
  const result = await db.query('SELECT 1 FROM outbox WHERE id = $1 AND completed_at IS NULL', [id]);
  return (result.rowCount ?? 0) > 0;
}

export async function markOutboxRowCompleted(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE outbox SET completed_at = now() WHERE id = $1', [id]);
}

/** BullMQ job ids may not be all digits nor contain ':' (BullMQ docs), hence the prefix. */
export function outboxJobId(outboxId: string): string {
  return `outbox-${outboxId}`;
}
