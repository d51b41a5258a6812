import type { DeviceReach } from '@carehub/matrix-bridge';
import type { Queryable } from '../store/database.js';

/** Records which of the recipients' devices got the key of an event that carried a referral. */
export async function recordReach(db: Queryable, taskId: string, eventId: string, reach: DeviceReach[]): Promise<void> {
  if (reach.length === 0) return;
  await db.query(
    `INSERT INTO referral_device_reach (task_id, event_id, user_id, device_id, readable, reason)
     SELECT $1, $2, r.user_id, r.device_id, r.readable, r.reason
       FROM jsonb_to_recordset($3::jsonb) AS r (user_id text, device_id text, readable boolean, reason text)
     ON CONFLICT DO NOTHING`,
    [taskId, eventId, JSON.stringify(reach.map((d) => ({ user_id: d.userId, device_id: d.deviceId, readable: d.readable, reason: d.reason ?? null })))],
  );
}

/** The recipients none of whose devices got the key: who must be told, and re-sent to later. */
export function usersWithoutReadableDevice(recipients: string[], reach: DeviceReach[]): string[] {
  return recipients.filter((userId) => !reach.some((d) => d.userId === userId && d.readable));
}

/** Notes recipients who cannot read a referral yet, so it is sent again once they can. */
export async function addWaitingReaders(db: Queryable, taskId: string, roomId: string, userIds: string[]): Promise<void> {
  for (const userId of userIds) {
    await db.query('INSERT INTO referral_waiting_readers (task_id, user_id, room_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [taskId, userId, roomId]);
  }
}

export async function removeWaitingReader(db: Queryable, taskId: string, userId: string): Promise<void> {
  await db.query('DELETE FROM referral_waiting_readers WHERE task_id = $1 AND user_id = $2', [taskId, userId]);
}

export interface WaitingReader {
  taskId: string;
  userId: string;
  roomId: string;
  resends: number;
}

export async function waitingReaders(db: Queryable, userIds?: string[]): Promise<WaitingReader[]> {
  const { rows } = await db.query<{ task_id: string; user_id: string; room_id: string; resends: number }>(
    `SELECT task_id, user_id, room_id, resends FROM referral_waiting_readers
      WHERE $1::text[] IS NULL OR user_id = ANY($1::text[]) ORDER BY since`,
    [userIds ?? null],
  );
  return rows.map((r) => ({ taskId: r.task_id, userId: r.user_id, roomId: r.room_id, resends: r.resends }));
}

/**
 * Whether a user had a device that could decrypt the referral (the referral itself or a re-send
 * of it). Referrals delivered before the hub recorded devices count as readable, as they did then.
 */
export async function couldRead(db: Queryable, taskId: string, userId: string): Promise<boolean> {
  const { rows } = await db.query<{ readable: boolean | null; recorded: boolean }>(
    `SELECT bool_or(readable AND user_id = $2) AS readable, count(*) > 0 AS recorded FROM referral_device_reach WHERE task_id = $1`,
    [taskId, userId],
  );
  return !rows[0]?.recorded || rows[0].readable === true;
}
