import type { OpenHoursRule } from '@carehub/matrix-bridge';
import type { Queryable } from '../store/database.js';

/** What the hub keeps about a case's room beyond the CareTeam: the room, and what its moderators did. */
export interface CaseRoomRecord {
  careTeamId: string;
  roomId: string | undefined;
  /** Muted users, each until when (undefined: until unmuted). */
  muted: Record<string, string | null>;
  locked: boolean;
  mutedAll: boolean;
  openHours: OpenHoursRule | undefined;
  /** What the open-hours rule last made of the room (undefined: no rule, or not applied yet). */
  hoursOpen: boolean | undefined;
  /** Closing: the transcript exported; removing the members and purging the room asked for; done. */
  exportedAt: Date | undefined;
  purgeRequestedAt: Date | undefined;
  purgedAt: Date | undefined;
}

interface Row {
  care_team_id: string;
  room_id: string | null;
  muted: Record<string, string | null>;
  locked: boolean;
  muted_all: boolean;
  open_hours: OpenHoursRule | null;
  hours_open: boolean | null;
  exported_at: Date | null;
  purge_requested_at: Date | null;
  purged_at: Date | null;
}

const fromRow = (row: Row): CaseRoomRecord => ({
  careTeamId: row.care_team_id,
  roomId: row.room_id ?? undefined,
  muted: row.muted,
  locked: row.locked,
  mutedAll: row.muted_all,
  openHours: row.open_hours ?? undefined,
  hoursOpen: row.hours_open ?? undefined,
  exportedAt: row.exported_at ?? undefined,
  purgeRequestedAt: row.purge_requested_at ?? undefined,
  purgedAt: row.purged_at ?? undefined,
});

/** The case's record, or a fresh one (nothing moderated, no room yet). */
export async function readCaseRoom(db: Queryable, careTeamId: string, forUpdate = false): Promise<CaseRoomRecord> {
  if (forUpdate) await db.query('INSERT INTO case_rooms (care_team_id) VALUES ($1) ON CONFLICT DO NOTHING', [careTeamId]);
  const { rows } = await db.query<Row>(`SELECT * FROM case_rooms WHERE care_team_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [careTeamId]);
  return rows[0] ? fromRow(rows[0]) : { careTeamId, roomId: undefined, muted: {}, locked: false, mutedAll: false, openHours: undefined, hoursOpen: undefined, exportedAt: undefined, purgeRequestedAt: undefined, purgedAt: undefined };
}

/** The case whose room this is. */
export async function careTeamOfRoom(db: Queryable, roomId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ care_team_id: string }>('SELECT care_team_id FROM case_rooms WHERE room_id = $1', [roomId]);
  return rows[0]?.care_team_id;
}

/** Stores the moderation part of a record (read with `forUpdate` in the same transaction). */
export async function saveModeration(db: Queryable, record: CaseRoomRecord): Promise<void> {
  await db.query('UPDATE case_rooms SET muted = $2, locked = $3, muted_all = $4, open_hours = $5, hours_open = $6 WHERE care_team_id = $1', [
    record.careTeamId,
    JSON.stringify(record.muted),
    record.locked,
    record.mutedAll,
    record.openHours ? JSON.stringify(record.openHours) : null,
    record.hoursOpen ?? null,
  ]);
}

/** Records the case's room once settling found or made it. */
export async function saveCaseRoomId(db: Queryable, careTeamId: string, roomId: string): Promise<void> {
  await db.query(
    `INSERT INTO case_rooms (care_team_id, room_id, settled_at) VALUES ($1, $2, now())
     ON CONFLICT (care_team_id) DO UPDATE SET room_id = EXCLUDED.room_id, settled_at = now()`,
    [careTeamId, roomId],
  );
}

/** Every case that has a room: the case clock's round. */
export async function casesWithRooms(db: Queryable): Promise<CaseRoomRecord[]> {
  const { rows } = await db.query<Row>('SELECT * FROM case_rooms WHERE room_id IS NOT NULL ORDER BY care_team_id');
  return rows.map(fromRow);
}

/** Marks a step of closing the case as done (in the transaction that does it). */
export async function markClosingStep(db: Queryable, careTeamId: string, step: 'exported' | 'purge_requested' | 'purged'): Promise<void> {
  await db.query(`UPDATE case_rooms SET ${step}_at = now() WHERE care_team_id = $1`, [careTeamId]);
}
