import { UnrecoverableError, type Job } from 'bullmq';
import type { Task } from 'fhir/r4.js';
import { renderReferralResend } from '@carehub/matrix-bridge';
import type { OutboxJobData } from '../queue/queues.js';
import { resolveMatrixRecipients } from '../routing/resolve-matrix-recipients.js';
import { markOutboxRowCompleted } from '../store/outbox.js';
import { readResourceForUpdate } from '../store/resource-store.js';
import { updateResource } from '../fhir/resource-writer.js';
import { FINISHED_STATUSES } from '../workflow/task-transitions.js';
import type { MatrixDeliveryDeps } from './deliver-referral.js';
import { completeWithSentEvents, matrixTxnIdFor, referralRoomFor } from './referral-delivery-record.js';
import { renderReferralFor } from './referral-fhir-payload.js';
import { findReferral } from './referral-view.js';
import { recordReach, removeWaitingReader } from './referral-readers.js';
import { sendReferralEvents } from './send-referral.js';
import { markTaskReadable } from './task-delivery-status.js';

/**
 * Sends a referral again for one recipient whose devices could not read it, now that one of
 * them can: in the referral's thread, under a Megolm session shared with that recipient's
 * devices only, so no member who read the referral gets it twice. What it reached is recorded
 * like the referral's own; once readable, the recipient no longer waits and the Task's
 * businessStatus says "Delivered".
 */
export function deliverReferralResend({ db, writes, sender, logger }: MatrixDeliveryDeps) {
  return async (job: Job<OutboxJobData<'referral.resend'>>): Promise<string> => {
    const { outboxId, taskId, userId } = job.data;
    const delivery = await referralRoomFor(db, outboxId, taskId);
    if (!delivery) return 'nothing to send';
    const referral = await findReferral(db, taskId);
    if (!referral) throw new UnrecoverableError(`Task/${taskId} or its ServiceRequest is gone`);
    const { task, request } = referral;
    const stillRecipient = (await resolveMatrixRecipients(db, task.owner)).includes(userId);
    if (FINISHED_STATUSES.has(task.status) || !stillRecipient) {
      await removeWaitingReader(db, taskId, userId);
      await markOutboxRowCompleted(db, outboxId);
      return stillRecipient ? `not re-sent: the referral is ${task.status}` : 'not re-sent: no longer a recipient';
    }

    const rendered = await renderReferralFor(db, task, request, 'resent');
    const content = renderReferralResend(delivery.messageEventId, rendered.content);
    const audience = { kind: 'only' as const, userIds: [userId] };
    const sent = await sendReferralEvents(sender, { roomId: delivery.roomId, outboxId, part: 'resend', threadRoot: delivery.messageEventId }, rendered, content, audience);
    const reach = await sender.reachOf(delivery.roomId, matrixTxnIdFor(outboxId, 'resend'), [userId]);
    const readable = reach.some((d) => d.readable);
    await completeWithSentEvents(db, outboxId, sent, async (client) => {
      await recordReach(client, taskId, sent[0]!.eventId, reach);
      if (!readable) return;
      await removeWaitingReader(client, taskId, userId);
      const current = await readResourceForUpdate<Task & { id: string }>(client, 'Task', taskId);
      const changed = markTaskReadable(current, new Date());
      if (!changed) return;
      await updateResource(writes, client, { ...changed, id: taskId });
    });
    logger.info({ outboxId, taskId, userId, eventId: sent[0]!.eventId, readable }, 'referral re-sent for a recipient who could not read it');
    return sent[0]!.eventId;
  };
}
