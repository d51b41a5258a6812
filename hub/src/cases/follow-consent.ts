import type { CareTeam } from 'fhir/r4.js';
import { BOT_MESSAGES } from '@carehub/matrix-bridge';
import { updateResource } from '../fhir/resource-writer.js';
import type { Queryable } from '../store/database.js';
import { addOutboxRow } from '../store/outbox.js';
import { readResourceForUpdate } from '../store/resource-store.js';
import type { WriteContext } from '../workflow/write-context.js';
import { BY_CAREHUB, recordCaseStep } from './case-audit.js';
import { openCasesOf, uncoveredParticipants } from './case-consent.js';
import { readCaseRoom } from './case-room-record.js';
import { withParticipationEnded } from './end-participation.js';

/**
 * Ends the participation of everyone in an open case whom the person's Consents no longer cover
 * at `at` (revoked, narrowed, expired): their period ends in the CareTeam, whose update removes
 * them from the room (`case.settle`); the room is told, without naming anyone, and the step is
 * recorded. In the caller's transaction. Returns the participants ended.
 */
export async function endUncoveredParticipants(context: WriteContext, db: Queryable, careTeam: CareTeam & { id: string }, at: Date): Promise<string[]> {
  const uncovered = await uncoveredParticipants(db, careTeam, at);
  if (uncovered.length === 0) return [];
  const current = await readResourceForUpdate<CareTeam & { id: string }>(db, 'CareTeam', careTeam.id);
  await updateResource(context, db, withParticipationEnded(current, new Set(uncovered), at));
  await recordCaseStep(db, { careTeamId: careTeam.id, step: 'consent-removal', by: BY_CAREHUB, reason: `The person's Consent no longer covers ${uncovered.join(', ')}` });
  const { roomId } = await readCaseRoom(db, careTeam.id);
  if (roomId) await addOutboxRow(db, 'room.notice', { roomId, notice: { text: BOT_MESSAGES.case.consentRevoked(uncovered.length) } });
  return uncovered;
}

/** A Consent of this person changed: every open case about them follows it (`endUncoveredParticipants`). */
export async function followConsentChange(context: WriteContext, db: Queryable, patient: string, at = new Date()): Promise<void> {
  for (const careTeam of await openCasesOf(db, patient)) await endUncoveredParticipants(context, db, careTeam, at);
}
