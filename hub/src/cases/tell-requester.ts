import type { Task } from 'fhir/r4.js';
import { BOT_MESSAGES } from '@carehub/matrix-bridge';
import { referencedId } from '../fhir/references.js';
import { directoryName } from '../routing/directory-name.js';
import type { Queryable } from '../store/database.js';
import { addOutboxRow } from '../store/outbox.js';
import { directChatOfRole } from './direct-chat-record.js';

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
 * A referral sent from Matrix comes back there: when its Task changes status, the requester
 * (a PractitionerRole with a direct chat with the bot) is told in that chat, with the
 * recipient's name and the new status, and the reason when it was declined.
 */
export async function tellRequester(db: Queryable, task: Task & { id: string }): Promise<void> {
  const roleId = referencedId(task.requester, 'PractitionerRole');
  const roomId = roleId ? await directChatOfRole(db, roleId) : undefined;
  if (!roomId) return;
  const to = (await directoryName(db, task.owner)) ?? task.owner?.reference ?? 'the recipient';
  const why = task.status === 'rejected' ? (task.statusReason?.text ?? task.statusReason?.coding?.[0]?.display) : undefined;
  const text = `${BOT_MESSAGES.direct.referralStatus(to, STATUS_WORDS[task.status] ?? task.status)}${why ? ` (${why})` : ''}${task.description ? `\n${task.description}` : ''}`;
  await addOutboxRow(db, 'room.notice', { roomId, notice: { text } });
}
