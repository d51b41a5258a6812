import { randomBytes } from 'node:crypto';
import type { Appointment } from 'fhir/r4.js';
import { inTransaction, type Database, type Queryable } from '../store/database.js';

/** What the hub did about a meeting in one case's room (case_meetings, migration 013). */
export interface CaseMeetingRecord {
  appointmentId: string;
  careTeamId: string;
  /** Random, 128 bits in hex (Jitsi folds names to lower case): the conference's name and the widget's state key. Not guessable from anything in FHIR or Matrix. */
  conferenceId: string;
  /** The invitation the bot posted; undefined until then. */
  eventId: string | undefined;
  /** The Appointment.start the room was last reminded of. */
  remindedStart: string | undefined;
}

interface Row {
  appointment_id: string;
  care_team_id: string;
  conference_id: string;
  event_id: string | null;
  reminded_start: string | null;
}

const fromRow = (row: Row): CaseMeetingRecord => ({
  appointmentId: row.appointment_id,
  careTeamId: row.care_team_id,
  conferenceId: row.conference_id,
  eventId: row.event_id ?? undefined,
  remindedStart: row.reminded_start ?? undefined,
});

/** Serialises the first record of an Appointment's meeting, so its cases share one conference. */
const MEETING_LOCK = "hashtext('carehub-case-meeting:' || $1)";

/**
 * The meeting's record in a case, made on first use with a new conference id (or the one the
 * Appointment already has in another case), so every retry and every change keeps the link.
 */
export async function meetingRecordFor(db: Database, appointmentId: string, careTeamId: string): Promise<CaseMeetingRecord> {
  return inTransaction(db, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(${MEETING_LOCK})`, [appointmentId]);
    await client.query(
      `INSERT INTO case_meetings (appointment_id, care_team_id, conference_id)
       VALUES ($1, $2, COALESCE((SELECT conference_id FROM case_meetings WHERE appointment_id = $1 LIMIT 1), $3))
       ON CONFLICT DO NOTHING`,
      [appointmentId, careTeamId, randomBytes(16).toString('hex')],
    );
    const { rows } = await client.query<Row>('SELECT * FROM case_meetings WHERE appointment_id = $1 AND care_team_id = $2', [appointmentId, careTeamId]);
    return fromRow(rows[0]!);
  });
}

/** Records the invitation's event, once (a change is said in a reply to the first). */
export async function saveInvitation(db: Queryable, appointmentId: string, careTeamId: string, eventId: string): Promise<void> {
  await db.query('UPDATE case_meetings SET event_id = $3 WHERE appointment_id = $1 AND care_team_id = $2 AND event_id IS NULL', [appointmentId, careTeamId, eventId]);
}

/**
 * A case's meetings whose invitation is out and whose current start the room has not been
 * reminded of, with their Appointments: the case clock's reminders.
 */
export async function meetingsToRemind(db: Queryable, careTeamId: string): Promise<Array<{ record: CaseMeetingRecord; appointment: Appointment & { id: string } }>> {
  const { rows } = await db.query<Row & { content: Appointment & { id: string } }>(
    `SELECT m.*, r.content FROM case_meetings m
       JOIN resources r ON r.resource_type = 'Appointment' AND r.id = m.appointment_id AND NOT r.deleted
      WHERE m.care_team_id = $1 AND m.event_id IS NOT NULL AND r.content ? 'start'
        AND m.reminded_start IS DISTINCT FROM r.content ->> 'start'`,
    [careTeamId],
  );
  return rows.map((row) => ({ record: fromRow(row), appointment: row.content }));
}

/** The room has been reminded of (or has missed) the meeting starting at `start`. */
export async function markReminded(db: Queryable, appointmentId: string, careTeamId: string, start: string): Promise<void> {
  await db.query('UPDATE case_meetings SET reminded_at = now(), reminded_start = $3 WHERE appointment_id = $1 AND care_team_id = $2', [appointmentId, careTeamId, start]);
}
