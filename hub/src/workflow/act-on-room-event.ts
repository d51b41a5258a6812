import type { Communication, Reference, Task } from 'fhir/r4.js';
import type { Logger } from 'pino';
import { ANSWER_HINT } from '../../../matrix-bridge/src/referral-message.js';
import type { ReferralRoomEvent } from '../../../matrix-bridge/src/referral-room-events.js';
import { resolveMatrixRecipients } from '../routing/resolve-matrix-recipients.js';
import { rolesOfMatrixUser } from '../routing/roles-of-matrix-user.js';
import { inTransaction, type Database, type Queryable } from '../store/database.js';
import { addOutboxRow, type RoomNotice } from '../store/outbox.js';
import { createResource, findResource, readResourceForUpdate, updateResource } from '../store/resource-store.js';
import { applyStatusChange } from './task-status-change.js';
import { isRefusal, receiveRoomDocument, type RoomMedia } from './receive-room-document.js';
import { AttachmentIntegrityError } from '../../../matrix-bridge/src/encrypted-attachment.js';
import { pathFor, refusalFor, type RecipientAction } from './task-transitions.js';
import { applyWriteEffects } from './write-effects.js';

const CONFIRMATION: Record<RecipientAction, (who: string, text?: string) => string> = {
  accept: (who) => `✅ Accepted by ${who}. The requester has been told.`,
  decline: (who, reason) => `❌ Declined by ${who}${reason ? `: ${reason}` : ''}. The requester has been told.`,
  start: (who) => `▶️ In progress with ${who}.`,
  complete: (who, note) => `✔️ Completed by ${who}${note ? `: ${note}` : ''}. The requester has been told.`,
};

interface Actor {
  matrixUserId: string;
  role: Reference | undefined;
  name: string;
}

/** Whether the event was already acted on; records it otherwise (in the caller's transaction). */
async function firstTimeSeen(db: Queryable, event: ReferralRoomEvent, taskId: string): Promise<boolean> {
  const result = await db.query(
    `INSERT INTO matrix_inbound_events (event_id, room_id, sender, task_id, outcome) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (event_id) DO NOTHING`,
    [event.eventId, event.roomId, event.sender, taskId, event.happening.kind],
  );
  return result.rowCount === 1;
}

async function moveTask(db: Queryable, task: Task & { id: string }, statuses: Task['status'][], actor: Actor, text: string | undefined, at: Date): Promise<Task & { id: string }> {
  let current = task;
  for (const to of statuses) {
    const { resource, previous } = await updateResource(db, applyStatusChange(current, { to, at, by: { role: actor.role, matrixUserId: actor.matrixUserId }, text }) as Task & { id: string });
    await applyWriteEffects(db, resource, 'Task', previous);
    current = resource as Task & { id: string };
  }
  return current;
}

/** A recipient's words that are not a command reach the requester as a FHIR Communication. */
async function keepConversation(db: Queryable, task: Task & { id: string }, event: ReferralRoomEvent, actor: Actor, text: string, at: Date): Promise<void> {
  const communication: Communication = {
    resourceType: 'Communication',
    identifier: [{ system: 'urn:ietf:rfc:3986', value: `matrix:roomid/${event.roomId.slice(1)}/e/${event.eventId.slice(1)}` }],
    status: 'completed',
    ...(task.focus ? { basedOn: [task.focus] } : {}),
    partOf: [{ reference: `Task/${task.id}` }],
    ...(task.for ? { subject: task.for } : {}),
    sent: at.toISOString(),
    ...(actor.role ? { sender: actor.role } : {}),
    ...(task.requester ? { recipient: [task.requester] } : {}),
    payload: [{ contentString: text }],
  };
  const stored = await createResource(db, communication);
  await applyWriteEffects(db, stored, 'Communication');
}

async function notice(db: Queryable, taskId: string, value: RoomNotice): Promise<void> {
  await addOutboxRow(db, 'room.notice', { taskId, notice: value });
}

/**
 * Acts on what a member did in a referral room, in one transaction with everything it causes
 * (Task versions, Communication, the bot's answer, subscriber notifications). An event is acted
 * on once: a replay after a restart finds it recorded and changes nothing.
 */
export function actOnReferralRoomEvent(db: Database, logger: Logger, media: RoomMedia) {
  return async (event: ReferralRoomEvent): Promise<void> => {
    const taskId = event.room.task.replace(/^Task\//, '');
    const at = new Date();
    const outcome = await inTransaction(db, async (client) => {
      if (event.happening.kind !== 'read' && !(await firstTimeSeen(client, event, taskId))) return 'already acted on';
      const task = await readResourceForUpdate<Task & { id: string }>(client, 'Task', taskId).catch(() => undefined);
      if (!task) return 'no such Task';
      const recipients = await resolveMatrixRecipients(client, task.owner);
      const isRecipient = recipients.includes(event.sender);
      const roles = await rolesOfMatrixUser(client, event.sender);
      const role = roles[0];
      const practitioner = role?.practitioner?.reference ? await findResource<{ resourceType: string; name?: Array<{ text?: string; family?: string; given?: string[]; prefix?: string[] }> }>(client, 'Practitioner', role.practitioner.reference.replace(/^Practitioner\//, '')) : undefined;
      const name = practitioner?.name?.[0];
      const actor: Actor = {
        matrixUserId: event.sender,
        role: role ? { reference: `PractitionerRole/${role.id}` } : undefined,
        name: name ? (name.text ?? [...(name.prefix ?? []), ...(name.given ?? []), name.family].filter(Boolean).join(' ')) : event.sender,
      };
      const happening = event.happening;
      switch (happening.kind) {
        case 'read': {
          if (!isRecipient || task.status !== 'requested') return 'nothing to do';
          // Only a receipt for something the hub sent in this room shows the referral was seen.
          const ours = await client.query('SELECT 1 FROM matrix_deliveries WHERE room_id = $1 AND event_id = $2', [event.roomId, happening.upTo]);
          if (ours.rowCount === 0) return 'receipt for another event';
          await moveTask(client, task, ['received'], actor, undefined, at);
          return 'received';
        }
        case 'document': {
          // A savepoint, so a refused file is recorded as refused (and answered) without its half-stored content.
          await client.query('SAVEPOINT room_document');
          try {
            const document = await receiveRoomDocument(client, media, task, happening, actor.role, at);
            await notice(client, taskId, { text: `📄 Received ${happening.filename}: stored as DocumentReference/${document.id} and passed on to the requester.`, inReplyTo: event.eventId, status: 'success' });
            return 'document stored';
          } catch (error) {
            await client.query('ROLLBACK TO SAVEPOINT room_document');
            const reason = isRefusal(error) ? error.issues[0]?.diagnostics : error instanceof AttachmentIntegrityError ? 'the file did not match its hash' : undefined;
            if (!reason) throw error;
            await notice(client, taskId, { text: `⚠️ ${happening.filename} was not accepted: ${reason}.`, inReplyTo: event.eventId, status: 'error' });
            return 'document refused';
          }
        }
        case 'help':
          await notice(client, taskId, { text: ANSWER_HINT, inReplyTo: event.eventId, status: 'success' });
          return 'help';
        case 'message':
          if (task.status === 'requested' && isRecipient) await moveTask(client, task, ['received'], actor, undefined, at);
          await keepConversation(client, task, event, actor, happening.text, at);
          await notice(client, taskId, { text: '', inReplyTo: event.eventId, status: 'success' });
          return 'conversation';
        case 'action': {
          if (!isRecipient) {
            await notice(client, taskId, { text: "⚠️ Only the referral's recipients can answer it.", inReplyTo: event.eventId, status: 'error' });
            return 'refused: not a recipient';
          }
          const path = pathFor(happening.action, task.status);
          if (!path) {
            // Even a refused answer shows the recipient has seen the referral.
            if (task.status === 'requested') await moveTask(client, task, ['received'], actor, undefined, at);
            await notice(client, taskId, { text: `⚠️ ${refusalFor(happening.action, task.status)}`, inReplyTo: event.eventId, status: 'error' });
            return `refused: ${happening.action} from ${task.status}`;
          }
          await moveTask(client, task, path, actor, happening.text, at);
          await notice(client, taskId, { text: CONFIRMATION[happening.action](actor.name, happening.text), inReplyTo: event.eventId, status: 'success' });
          return path.at(-1)!;
        }
        default:
          return 'ignored';
      }
    });
    logger.info({ roomId: event.roomId, eventId: event.eventId, taskId, kind: event.happening.kind, outcome }, 'acted on a referral room event');
  };
}
