import { UnrecoverableError, type Job } from 'bullmq';
import { renderReferralEdit } from '@carehub/matrix-bridge';
import type { OutboxJobData } from '../queue/queues.js';
import type { MatrixDeliveryDeps } from './deliver-referral.js';
import { completeWithSentEvents, referralRoomFor } from './referral-delivery-record.js';
import { renderReferralFor } from './referral-fhir-payload.js';
import { findReferral } from './referral-view.js';
import { sendReferralEvents } from './send-referral.js';

/**
 * Shows an edited ServiceRequest in the room as an edit (m.replace) of the referral message, so
 * the GP's client shows the current request (text and FHIR together) in place, marked as
 * edited. Rendered from the current version when the job runs: several quick edits end in the
 * latest one either way.
 */
export function deliverReferralEdit({ db, sender, logger }: MatrixDeliveryDeps) {
  return async (job: Job<OutboxJobData<'referral.edit'>>): Promise<string> => {
    const { outboxId, taskId } = job.data;
    const delivery = await referralRoomFor(db, outboxId, taskId);
    if (!delivery) return 'nothing to send';
    const referral = await findReferral(db, taskId);
    if (!referral) throw new UnrecoverableError(`Task/${taskId} or its ServiceRequest is gone`);
    const { task, request } = referral;

    const rendered = await renderReferralFor(db, task, request, 'updated');
    const edit = renderReferralEdit(delivery.messageEventId, rendered.content);
    const sent = await sendReferralEvents(sender, { roomId: delivery.roomId, outboxId, part: 'edit', threadRoot: delivery.messageEventId }, rendered, edit);
    await completeWithSentEvents(db, outboxId, sent);
    logger.info({ outboxId, taskId, eventId: sent[0]!.eventId }, 'referral edit shown in the room');
    return sent[0]!.eventId;
  };
}
