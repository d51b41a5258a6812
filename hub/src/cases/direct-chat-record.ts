import type { Queryable } from '../store/database.js';
import type { DirectoryChoice } from './directory-search.js';

/** What the bot remembers of a member's direct chat (hub/migrations/014_direct_chats.sql). */
export interface DirectChatRecord {
  roomId: string;
  userId: string;
  roleId: string | undefined;
  careTeamId: string | undefined;
  pending: { patient: string; reason?: string } | undefined;
  choices: DirectoryChoice[];
}

interface Row {
  room_id: string;
  user_id: string;
  role_id: string | null;
  care_team_id: string | null;
  pending: DirectChatRecord['pending'] | null;
  choices: DirectoryChoice[];
}

/** The chat's record (created if new), locked for the caller's transaction. */
export async function readDirectChat(db: Queryable, roomId: string, userId: string): Promise<DirectChatRecord> {
  await db.query('INSERT INTO direct_chats (room_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [roomId, userId]);
  const { rows } = await db.query<Row>('SELECT * FROM direct_chats WHERE room_id = $1 FOR UPDATE', [roomId]);
  const row = rows[0]!;
  return { roomId, userId: row.user_id, roleId: row.role_id ?? undefined, careTeamId: row.care_team_id ?? undefined, pending: row.pending ?? undefined, choices: row.choices };
}

export async function saveDirectChat(db: Queryable, chat: DirectChatRecord): Promise<void> {
  await db.query('UPDATE direct_chats SET role_id = $2, care_team_id = $3, pending = $4, choices = $5, updated_at = now() WHERE room_id = $1', [
    chat.roomId,
    chat.roleId ?? null,
    chat.careTeamId ?? null,
    chat.pending ? JSON.stringify(chat.pending) : null,
    JSON.stringify(chat.choices),
  ]);
}

/** The direct chat of the member acting in a PractitionerRole, where the bot tells them how their referrals fare. */
export async function directChatOfRole(db: Queryable, roleId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ room_id: string }>('SELECT room_id FROM direct_chats WHERE role_id = $1 ORDER BY updated_at DESC LIMIT 1', [roleId]);
  return rows[0]?.room_id;
}

/** A member's direct chat with the bot (the latest, if several), by their Matrix user. */
export async function directChatOfUser(db: Queryable, userId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ room_id: string }>('SELECT room_id FROM direct_chats WHERE user_id = $1 ORDER BY updated_at DESC LIMIT 1', [userId]);
  return rows[0]?.room_id;
}
