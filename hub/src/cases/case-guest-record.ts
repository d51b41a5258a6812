import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../store/database.js';

/** A guest of a case, as hub/migrations/015_case_guests.sql keeps them. */
export interface CaseGuest {
  id: string;
  careTeamId: string;
  /** "RelatedPerson/…" or "Patient/…": their place in CareTeam.participant. */
  member: string;
  identifiedBy: string;
  invitedBy: string;
  linkRoomId: string;
  linkExpiresAt: Date;
  accessEndsAt: Date;
  state: 'issued' | 'joined' | 'ended' | 'expired';
  userId: string | undefined;
  deactivatedAt: Date | undefined;
}

interface Row {
  id: string;
  care_team_id: string;
  member: string;
  identified_by: string;
  invited_by: string;
  link_room_id: string;
  link_expires_at: Date;
  access_ends_at: Date;
  state: CaseGuest['state'];
  user_id: string | null;
  deactivated_at: Date | null;
}

const guestOf = (row: Row): CaseGuest => ({
  id: row.id,
  careTeamId: row.care_team_id,
  member: row.member,
  identifiedBy: row.identified_by,
  invitedBy: row.invited_by,
  linkRoomId: row.link_room_id,
  linkExpiresAt: row.link_expires_at,
  accessEndsAt: row.access_ends_at,
  state: row.state,
  userId: row.user_id ?? undefined,
  deactivatedAt: row.deactivated_at ?? undefined,
});

/** The link's secret: 32 random bytes, base64url (256 bits: not guessable, so no attempt counter is needed). */
export const newLinkToken = (): string => randomBytes(32).toString('base64url');

/** What the table keeps of a link: its SHA-256, so a copy of the database opens no room. */
export const tokenHash = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

export async function addCaseGuest(
  db: Queryable,
  guest: Pick<CaseGuest, 'careTeamId' | 'member' | 'identifiedBy' | 'invitedBy' | 'linkRoomId' | 'linkExpiresAt' | 'accessEndsAt'>,
): Promise<CaseGuest> {
  const { rows } = await db.query<Row>(
    `INSERT INTO case_guests (care_team_id, member, identified_by, invited_by, link_room_id, link_expires_at, access_ends_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [guest.careTeamId, guest.member, guest.identifiedBy, guest.invitedBy, guest.linkRoomId, guest.linkExpiresAt, guest.accessEndsAt],
  );
  return guestOf(rows[0]!);
}

/** A guest by id, locked for the caller's transaction. */
export async function readCaseGuest(db: Queryable, id: string): Promise<CaseGuest | undefined> {
  const { rows } = await db.query<Row>('SELECT * FROM case_guests WHERE id = $1 FOR UPDATE', [id]);
  return rows[0] && guestOf(rows[0]);
}

/** The guest a link belongs to, locked, whatever its state (the caller says why a used or old link no longer works). */
export async function guestOfLink(db: Queryable, token: string): Promise<CaseGuest | undefined> {
  const { rows } = await db.query<Row>('SELECT * FROM case_guests WHERE token_sha256 = $1 FOR UPDATE', [tokenHash(token)]);
  return rows[0] && guestOf(rows[0]);
}

/** Replaces the guest's link: the one before stops working. */
export async function saveLinkToken(db: Queryable, id: string, token: string): Promise<void> {
  await db.query('UPDATE case_guests SET token_sha256 = $2 WHERE id = $1', [id, tokenHash(token)]);
}

/** The link was used: the account exists. The link's hash goes, so it opens nothing again. */
export async function markGuestJoined(db: Queryable, id: string, userId: string): Promise<void> {
  await db.query("UPDATE case_guests SET state = 'joined', user_id = $2, joined_at = now(), token_sha256 = NULL WHERE id = $1", [id, userId]);
}

export async function markGuestEnded(db: Queryable, id: string, state: 'ended' | 'expired', at: Date): Promise<void> {
  await db.query('UPDATE case_guests SET state = $2, ended_at = $3, token_sha256 = NULL WHERE id = $1', [id, state, at]);
}

export async function markGuestDeactivated(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE case_guests SET deactivated_at = now() WHERE id = $1', [id]);
}

/** Every guest of a case, the newest first; `lock`: for the caller's transaction. */
export async function guestsOfCase(db: Queryable, careTeamId: string, lock = false): Promise<CaseGuest[]> {
  const { rows } = await db.query<Row>(`SELECT * FROM case_guests WHERE care_team_id = $1 ORDER BY created_at DESC${lock ? ' FOR UPDATE' : ''}`, [careTeamId]);
  return rows.map(guestOf);
}

/** The Matrix users of a participant's guests who joined and still take part. */
export async function joinedGuestUsers(db: Queryable, careTeamId: string, member: string): Promise<string[]> {
  const { rows } = await db.query<{ user_id: string }>(
    "SELECT user_id FROM case_guests WHERE care_team_id = $1 AND member = $2 AND state = 'joined' AND user_id IS NOT NULL ORDER BY user_id",
    [careTeamId, member],
  );
  return rows.map((row) => row.user_id);
}
