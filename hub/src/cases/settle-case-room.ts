import { UnrecoverableError, type Job } from 'bullmq';
import type { CareTeam } from 'fhir/r4.js';
import type { Logger } from 'pino';
import type { CaseRooms } from '@carehub/matrix-bridge';
import type { OutboxJobData } from '../queue/queues.js';
import { inTransaction, type Database } from '../store/database.js';
import { isOutboxRowOpen, lockOutboxRow, markOutboxRowCompleted } from '../store/outbox.js';
import { findResource } from '../store/resource-store.js';
import { BY_CAREHUB, recordCaseStep } from './case-audit.js';
import { readCaseRoom, saveCaseRoomId } from './case-room-record.js';
import { planCaseRoom } from './case-room-plan.js';

export interface CaseRoomDeps {
  db: Database;
  caseRooms: CaseRooms;
  botUserId: string;
  /** cases.timeZone: open hours are local time there. */
  timeZone: string;
  logger: Logger;
}

/**
 * Makes a case's room match its CareTeam and moderation (`case.settle`): created on the first
 * run (encrypted, invite-only, named by case number and service, the summary pinned inside),
 * the active participants' Matrix users invited, everyone else removed, power levels set. Then,
 * in one transaction: the room recorded, an AuditEvent for the opening and for each member
 * invited or removed, the row done. Safe to run again: the room is found by its alias, and a
 * settled room needs no change.
 */
export function settleCaseRoom({ db, caseRooms, botUserId, timeZone, logger }: CaseRoomDeps) {
  return async (job: Job<OutboxJobData<'case.settle'>>): Promise<string> => {
    const { outboxId, careTeamId } = job.data;
    if (!(await isOutboxRowOpen(db, outboxId))) return 'already settled';
    const careTeam = await findResource<CareTeam & { id: string }>(db, 'CareTeam', careTeamId);
    if (!careTeam) throw new UnrecoverableError(`CareTeam/${careTeamId} is gone`);
    const at = new Date();
    const record = await readCaseRoom(db, careTeamId);
    const plan = await planCaseRoom(db, careTeam, record, botUserId, at, timeZone);
    const settled = await caseRooms.settle({ kind: 'case', careTeam: `CareTeam/${careTeamId}` }, plan);
    await inTransaction(db, async (client) => {
      const row = await lockOutboxRow(client, outboxId);
      if (!row || row.completedAt) return;
      await saveCaseRoomId(client, careTeamId, settled.roomId);
      if (settled.created) await recordCaseStep(client, { careTeamId, step: 'room-opened', by: BY_CAREHUB });
      if (settled.invited.length > 0) await recordCaseStep(client, { careTeamId, step: 'member-invited', by: BY_CAREHUB, members: settled.invited });
      if (settled.removed.length > 0) await recordCaseStep(client, { careTeamId, step: 'member-removed', by: BY_CAREHUB, members: settled.removed });
      await markOutboxRowCompleted(client, outboxId);
    });
    logger.info({ outboxId, careTeamId, roomId: settled.roomId, created: settled.created, invited: settled.invited.length, removed: settled.removed.length }, 'case room settled');
    return settled.roomId;
  };
}
