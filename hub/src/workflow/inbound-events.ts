import type { RoomEventBase } from '@carehub/matrix-bridge';
import type { Queryable } from '../store/database.js';

/** Whether the event was already acted on; records it otherwise (in the caller's transaction). */
export async function firstTimeSeen(db: Queryable, event: RoomEventBase, outcome: string, taskId?: string): Promise<boolean> {
  const result = await db.query(
    `INSERT INTO matrix_inbound_events (event_id, room_id, sender, task_id, outcome) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (event_id) DO NOTHING`,
    [event.eventId, event.roomId, event.sender, taskId ?? null, outcome],
  );
  return result.rowCount === 1;
}
