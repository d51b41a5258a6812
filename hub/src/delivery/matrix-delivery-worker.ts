import type { Job } from 'bullmq';
import type { OutboxJobData } from '../queue/queues.js';
import type { OutboxTopic } from '../store/outbox.js';
import { deliverReferral, type MatrixDeliveryDeps } from './deliver-referral.js';
import { deliverReferralEdit } from './deliver-referral-edit.js';
import { deliverReferralResend } from './deliver-referral-resend.js';
import { deliverRoomNotice } from './deliver-room-notice.js';
import { deliverDocument } from './deliver-document.js';
import { settleCaseRoom, type CaseRoomDeps } from '../cases/settle-case-room.js';
import { deliverCommunication } from './deliver-communication.js';
import { exportCaseTranscript, purgeCaseRoom, type CloseCaseDeps } from '../cases/close-case.js';
import { scheduleMeeting } from '../cases/schedule-meeting.js';
import { endGuestAccount, sendGuestLink } from '../cases/guest-jobs.js';

type MatrixTopic = Extract<OutboxTopic, 'referral.deliver' | 'referral.edit' | 'referral.resend' | 'room.notice' | 'document.deliver' | 'case.settle' | 'communication.post' | 'case.export' | 'case.purge' | 'case.meeting' | 'case.guest-link' | 'case.guest-end'>;

/** The processor of the matrix-delivery queue: every event the bot sends, by outbox topic (the job name). */
export function matrixDeliveryProcessor(deps: MatrixDeliveryDeps & { homeserverUrl: string; cases: Omit<CaseRoomDeps, 'db' | 'logger'> & { meetingBaseUrl: string }; closing: Omit<CloseCaseDeps, 'db' | 'writes' | 'logger' | 'caseRooms'> }) {
  const guestDeps = { db: deps.db, sender: deps.sender, logger: deps.logger, ...deps.closing };
  const processors: { [K in MatrixTopic]: (job: Job<OutboxJobData<K>>) => Promise<string> } = {
    'referral.deliver': deliverReferral(deps),
    'referral.edit': deliverReferralEdit(deps),
    'referral.resend': deliverReferralResend(deps),
    'room.notice': deliverRoomNotice(deps),
    'document.deliver': deliverDocument(deps),
    'case.settle': settleCaseRoom({ db: deps.db, logger: deps.logger, ...deps.cases }),
    'communication.post': deliverCommunication(deps),
    'case.export': exportCaseTranscript({ db: deps.db, writes: deps.writes, logger: deps.logger, caseRooms: deps.cases.caseRooms, ...deps.closing }),
    'case.purge': purgeCaseRoom({ db: deps.db, writes: deps.writes, logger: deps.logger, caseRooms: deps.cases.caseRooms, ...deps.closing }),
    'case.meeting': scheduleMeeting({ db: deps.db, sender: deps.sender, logger: deps.logger, ...deps.cases }),
    'case.guest-link': sendGuestLink(guestDeps),
    'case.guest-end': endGuestAccount(guestDeps),
  };
  return (job: Job<OutboxJobData>): Promise<string> => {
    const processor = processors[job.name as MatrixTopic];
    if (!processor) throw new Error(`the matrix-delivery queue got a job it does not know: ${job.name}`);
    return processor(job as never);
  };
}
