import type { Task } from 'fhir/r4.js';
import type { ReferralRoomEvent } from '@carehub/matrix-bridge';
import type { Queryable } from '../store/database.js';
import { findResource } from '../store/resource-store.js';
import { firstRecordedReferral, onlyOpenReferral, receiptScopeOf, referralClueOf, type RecordedDelivery } from './which-referral.js';

// Which referral a member's event in a room is about, answered here, beside the delivery
// records (matrix_deliveries) it is answered from: the one place that question is asked.

/**
 * The referral (its Task id) a member's event is about: the one the bot's event it relates to
 * names, or else the first event it relates to (thread root, reply or reaction target) that the
 * hub recorded sending for a referral. An event that relates to nothing (a message typed at the
 * top of the room) is about the room's only open referral, if it has just one: in a room with
 * one case, "done" means that case.
 */
export async function referralOfRoomEvent(db: Queryable, event: ReferralRoomEvent): Promise<string | undefined> {
  const clue = referralClueOf(event);
  switch (clue.kind) {
    case 'named':
      return clue.taskId;
    case 'related':
      return referralRecordedFor(db, event.roomId, clue.eventIds);
    case 'room':
      return onlyOpenReferral(await referralsInRoom(db, event.roomId));
  }
}

async function referralRecordedFor(db: Queryable, roomId: string, eventIds: string[]): Promise<string | undefined> {
  const { rows } = await db.query<RecordedDelivery>(
    `SELECT d.event_id, d.task_id FROM matrix_deliveries d
      WHERE d.room_id = $1 AND d.event_id = ANY($2::text[]) AND d.task_id IS NOT NULL`,
    [roomId, eventIds],
  );
  return firstRecordedReferral(eventIds, rows);
}

/** The Tasks whose referrals were delivered into a room. */
async function referralsInRoom(db: Queryable, roomId: string): Promise<Array<Task & { id: string }>> {
  const { rows } = await db.query<{ task_id: string }>(`SELECT DISTINCT task_id FROM matrix_deliveries WHERE room_id = $1 AND part = 'message' AND task_id IS NOT NULL`, [roomId]);
  const tasks = await Promise.all(rows.map((r) => findResource<Task & { id: string }>(db, 'Task', r.task_id)));
  return tasks.filter((t): t is Task & { id: string } => Boolean(t));
}

/**
 * The referrals a read receipt shows as seen. A receipt in a referral's thread (MSC3771) covers
 * that referral; a receipt on the room's timeline covers every referral delivered up to the event
 * read, as the recipient's client shows the room's referrals in the order they arrived.
 */
export async function referralsReadBy(db: Queryable, event: ReferralRoomEvent, upTo: string): Promise<string[]> {
  const scope = receiptScopeOf(event, upTo);
  const { rows } = await db.query<{ task_id: string }>(
    scope.kind === 'thread'
      ? `SELECT task_id FROM matrix_deliveries WHERE room_id = $1 AND event_id = $2 AND task_id IS NOT NULL`
      : `SELECT DISTINCT m.task_id FROM matrix_deliveries m
           JOIN matrix_deliveries r ON r.room_id = m.room_id AND r.event_id = $2
          WHERE m.room_id = $1 AND m.part = 'message' AND m.task_id IS NOT NULL AND m.delivered_at <= r.delivered_at`,
    [event.roomId, scope.kind === 'thread' ? scope.rootEventId : scope.upTo],
  );
  return rows.map((r) => r.task_id);
}
