import type { Task } from 'fhir/r4.js';
import { BOT_MESSAGES } from '@carehub/matrix-bridge';
import { referencedId } from '../fhir/references.js';
import { directoryName } from '../routing/directory-name.js';
import type { Queryable } from '../store/database.js';
import { addOutboxRow } from '../store/outbox.js';
import { directChatOfRole } from './direct-chat-record.js';
import { originOfReferral } from './refer-from-matrix.js';

/** Task statuses as a counsellor reads them. */
const STATUS_WORDS: Partial<Record<Task['status'], string>> = {
  received: 'received (read by the recipient)',
  accepted: 'accepted',
  rejected: 'declined',
  'in-progress': 'in progress',
  completed: 'completed',
  cancelled: 'cancelled',
  failed: 'failed',
};

/**
 * A referral sent from Matrix comes back there: when its Task changes status, the requester is
 * told, with the recipient's name and the new status, and the reason when it was declined: in
 * the case room it was sent from (as a reply to the "refer" message), else in the requester's
 * direct chat with the bot.
 */
export async function tellRequester(db: Queryable, task: Task & { id: string }): Promise<void> {
  const origin = await originOfReferral(db, task.id);
  const roleId = referencedId(task.requester, 'PractitionerRole');
  const roomId = origin?.roomId ?? (roleId ? await directChatOfRole(db, roleId) : undefined);
  if (!roomId) return;
  const to = (await directoryName(db, task.owner)) ?? task.owner?.reference ?? 'the recipient';
  const why = task.status === 'rejected' ? (task.statusReason?.text ?? task.statusReason?.coding?.[0]?.display) : undefined;
  const text = `${BOT_MESSAGES.direct.referralStatus(to, STATUS_WORDS[task.status] ?? task.status)}${why ? ` (${why})` : ''}${task.description ? `\n${task.description}` : ''}`;
  await addOutboxRow(db, 'room.notice', { roomId, notice: { text, ...(origin ? { inReplyTo: origin.eventId } : {}) } });
}
