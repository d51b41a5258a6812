import type { Communication, Task } from 'fhir/r4.js';
import type { Logger } from 'pino';
import { AttachmentIntegrityError, BOT_MESSAGES, type ReferralRoomEvent, type ReferralRoomHandlers } from '@carehub/matrix-bridge';
import { resolveMatrixRecipients } from '../routing/resolve-matrix-recipients.js';
import { inTransaction, type Database, type Queryable } from '../store/database.js';
import { addOutboxRow, type RoomNotice } from '../store/outbox.js';
import { readResourceForUpdate } from '../store/resource-store.js';
import { createResource, updateResource } from '../fhir/resource-writer.js';
import { applyStatusChange } from './task-status-change.js';
import { isRefusal, receiveRoomDocument, type RoomMedia } from './receive-room-document.js';
import { pathFor, refusalFor } from './task-transitions.js';
import type { WriteContext } from './write-context.js';
import { actorFor, type Actor } from './room-actor.js';
import { firstTimeSeen } from './inbound-events.js';
import { couldRead } from '../delivery/referral-readers.js';
import { referralOfRoomEvent, referralsReadBy } from '../delivery/room-event-referral.js';

async function moveTask(writes: WriteContext, db: Queryable, task: Task & { id: string }, statuses: Task['status'][], actor: Actor, text: string | undefined, at: Date): Promise<Task & { id: string }> {
  let current = task;
  for (const to of statuses) {
    const { resource } = await updateResource(writes, db, applyStatusChange(current, { to, at, by: { author: actor.author, matrixUserId: actor.matrixUserId }, text }) as Task & { id: string });
    current = resource;
  }
  return current;
}

/** A recipient's words that are not a command reach the requester as a FHIR Communication. */
async function keepConversation(writes: WriteContext, db: Queryable, task: Task & { id: string }, event: ReferralRoomEvent, actor: Actor, text: string, at: Date): Promise<void> {
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
  await createResource(writes, db, communication);
}

/** What a handler of a member's event about one referral has to work with, in the event's transaction. */
interface ReferralAtHand {
  client: Queryable;
  task: Task & { id: string };
  isRecipient: boolean;
  actor: Actor;
  at: Date;
  /** Answers in the room (through the outbox, in this transaction). */
  notice: (value: RoomNotice) => Promise<unknown>;
}

type ReferralEvent<K extends ReferralRoomEvent['happening']['kind']> = ReferralRoomEvent & { happening: Extract<ReferralRoomEvent['happening'], { kind: K }> };

/**
 * What the hub does with each kind of event in a referral room: the referral kind's handlers
 * (`referralRoomKind`, wired in startHub). Each acts in one transaction with everything it causes
 * (Task versions, Communication, the bot's answer, subscriber notifications). An event is acted
 * on once: a replay after a restart finds it recorded and changes nothing.
 */
export function referralRoomHandlers(db: Database, writes: WriteContext, logger: Logger, media: RoomMedia): ReferralRoomHandlers {
  /**
   * A member's event about one referral: which referral is found, the event recorded (once), and
   * `act` runs with the Task, unless there is no referral to act on.
   */
  const aboutReferral =
    <K extends Exclude<ReferralRoomEvent['happening']['kind'], 'read'>>(act: (event: ReferralEvent<K>, hand: ReferralAtHand) => Promise<string>) =>
    async (event: ReferralEvent<K>): Promise<void> => {
      const at = new Date();
      const { kind } = (event as ReferralRoomEvent).happening;
      let taskId: string | undefined;
      const outcome = await inTransaction(db, async (client) => {
        taskId = await referralOfRoomEvent(client, event);
        if (!(await firstTimeSeen(client, event, kind, taskId))) return 'already acted on';
        if (!taskId) {
          const help = kind === 'help';
          await addOutboxRow(client, 'room.notice', { roomId: event.roomId, notice: { text: help ? BOT_MESSAGES.answerHint : BOT_MESSAGES.whichReferral, inReplyTo: event.eventId, status: help ? 'success' : 'error' } });
          return help ? 'help' : 'asked which referral';
        }
        const task = await readResourceForUpdate<Task & { id: string }>(client, 'Task', taskId).catch(() => undefined);
        if (!task) return 'no such Task';
        const recipients = await resolveMatrixRecipients(client, task.owner);
        const isRecipient = recipients.includes(event.sender);
        const actor = await actorFor(client, event.sender);
        // A confirmation answers in the referral's thread; a reaction is no message to quote, so the answer to one replies to the referral.
        const replyTo = event.eventType === 'm.reaction' ? ('referral' as const) : undefined;
        const notice = (value: RoomNotice) => addOutboxRow(client, 'room.notice', { taskId: task.id, notice: { ...value, ...(replyTo ? { replyTo } : {}) } });
        return act(event, { client, task, isRecipient, actor, at, notice });
      });
      logger.info({ roomId: event.roomId, eventId: event.eventId, taskId, kind, outcome }, 'acted on a referral room event');
    };

  /** The bot acts only for the referral's parties (access policy): a room member the directory no longer lists as a recipient adds nothing to the referral. */
  const onlyFromRecipients = async (kind: 'document' | 'message', eventId: string, { isRecipient, notice }: ReferralAtHand): Promise<string | undefined> => {
    if (isRecipient) return undefined;
    await notice({ text: BOT_MESSAGES.refusal.onlyRecipientsAdd, inReplyTo: eventId, status: 'error' });
    return `refused: ${kind} from a non-recipient`;
  };

  return {
    read: async (event) => {
      const at = new Date();
      const upTo = event.happening.upTo;
      const outcome = await inTransaction(db, async (client) => {
        const marked: string[] = [];
        for (const taskId of await referralsReadBy(client, event, upTo)) {
          const task = await readResourceForUpdate<Task & { id: string }>(client, 'Task', taskId).catch(() => undefined);
          if (!task || task.status !== 'requested' || !(await resolveMatrixRecipients(client, task.owner)).includes(event.sender)) continue;
          // A receipt for an event the user's devices could not decrypt says nothing about reading it.
          if (!(await couldRead(client, taskId, event.sender))) continue;
          await moveTask(writes, client, task, ['received'], await actorFor(client, event.sender), undefined, at);
          marked.push(taskId);
        }
        const result = marked.length > 0 ? `received: ${marked.map((id) => `Task/${id}`).join(', ')}` : 'nothing to do';
        // Kept like any event acted on, so support (and tests) can see a receipt was weighed, and how.
        await client.query(
          `INSERT INTO matrix_inbound_events (event_id, room_id, sender, outcome) VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO UPDATE SET outcome = EXCLUDED.outcome`,
          [event.eventId, event.roomId, event.sender, `read: ${result}`],
        );
        return result;
      });
      logger.info({ roomId: event.roomId, upTo, outcome }, 'acted on a read receipt');
    },

    document: aboutReferral<'document'>(async (event, hand) => {
      const refused = await onlyFromRecipients('document', event.eventId, hand);
      if (refused) return refused;
      const { client, task, actor, at, notice } = hand;
      const happening = event.happening;
      // A savepoint, so a refused file is recorded as refused (and answered) without its half-stored content.
      await client.query('SAVEPOINT room_document');
      try {
        const document = await receiveRoomDocument(writes, client, media, task, happening, actor.role, at);
        await notice({ text: BOT_MESSAGES.document.received(happening.filename, document.id!), inReplyTo: event.eventId, status: 'success' });
        return 'document stored';
      } catch (error) {
        await client.query('ROLLBACK TO SAVEPOINT room_document');
        const reason = isRefusal(error) ? error.issues[0]?.diagnostics : error instanceof AttachmentIntegrityError ? BOT_MESSAGES.document.notMatchingHash : undefined;
        if (!reason) throw error;
        await notice({ text: BOT_MESSAGES.document.refused(happening.filename, reason), inReplyTo: event.eventId, status: 'error' });
        return 'document refused';
      }
    }),

    help: aboutReferral<'help'>(async (event, { notice }) => {
      await notice({ text: BOT_MESSAGES.answerHint, inReplyTo: event.eventId, status: 'success' });
      return 'help';
    }),

    message: aboutReferral<'message'>(async (event, hand) => {
      const refused = await onlyFromRecipients('message', event.eventId, hand);
      if (refused) return refused;
      const { client, task, isRecipient, actor, at, notice } = hand;
      if (task.status === 'requested' && isRecipient && (await couldRead(client, task.id, event.sender))) await moveTask(writes, client, task, ['received'], actor, undefined, at);
      await keepConversation(writes, client, task, event, actor, event.happening.text, at);
      await notice({ text: '', inReplyTo: event.eventId, status: 'success' });
      return 'conversation';
    }),

    action: aboutReferral<'action'>(async (event, { client, task, isRecipient, actor, at, notice }) => {
      const happening = event.happening;
      if (!isRecipient) {
        await notice({ text: BOT_MESSAGES.refusal.onlyRecipientsAnswer, inReplyTo: event.eventId, status: 'error' });
        return 'refused: not a recipient';
      }
      const path = pathFor(happening.action, task.status);
      if (!path) {
        // Even a refused answer shows the recipient has seen the referral.
        if (task.status === 'requested') await moveTask(writes, client, task, ['received'], actor, undefined, at);
        await notice({ text: BOT_MESSAGES.refusal.answer(refusalFor(happening.action, task.status)), inReplyTo: event.eventId, status: 'error' });
        return `refused: ${happening.action} from ${task.status}`;
      }
      await moveTask(writes, client, task, path, actor, happening.text, at);
      await notice({ text: BOT_MESSAGES.confirmation[happening.action](actor.name, happening.text), inReplyTo: event.eventId, status: 'success' });
      return path.at(-1)!;
    }),
  };
}
