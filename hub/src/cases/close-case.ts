import { readFile } from 'node:fs/promises';
import { UnrecoverableError, type Job } from 'bullmq';
import type { CareTeam, DocumentReference, Patient } from 'fhir/r4.js';
import type { Logger } from 'pino';
import type { MatrixClient } from 'matrix-js-sdk';
import { readRoomHistory, type CaseRooms } from '@carehub/matrix-bridge';
import { describedAttachment } from '../documents/document-store.js';
import { humanNameText } from '../fhir/human-name.js';
import { parseReference } from '../fhir/references.js';
import { createResource } from '../fhir/resource-writer.js';
import type { OutboxJobData } from '../queue/queues.js';
import { inTransaction, type Database, type Queryable } from '../store/database.js';
import { isOutboxRowOpen, lockOutboxRow, markOutboxRowCompleted } from '../store/outbox.js';
import { findResource } from '../store/resource-store.js';
import { storeRoomFile, type RoomMedia } from '../workflow/receive-room-document.js';
import { actorFor } from '../workflow/room-actor.js';
import { guestLabel, guestMemberOf } from './case-guests.js';
import type { WriteContext } from '../workflow/write-context.js';
import { BY_CAREHUB, recordCaseStep } from './case-audit.js';
import { caseRoomName } from './case-room-plan.js';
import { markClosingStep, readCaseRoom } from './case-room-record.js';
import { transcriptBundle, transcriptHtml, type TranscriptLine } from './case-transcript.js';

export interface CloseCaseDeps {
  db: Database;
  writes: WriteContext;
  bot: MatrixClient;
  caseRooms: CaseRooms;
  media: RoomMedia;
  /** http.publicBaseUrl: the transcript's stored documents are named by their absolute URLs. */
  publicBaseUrl: string;
  timeZone: string;
  /** cases.synapseAdminTokenFile */
  synapseAdminTokenFile: string | undefined;
  homeserverUrl: string;
  logger: Logger;
}

/** How the transcript documents are typed (LOINC 11488-4 would be a consult note; this is the conversation itself). */
const TRANSCRIPT_TYPE = { text: 'Case room transcript' };

async function whoIsAbout(db: Queryable, careTeam: CareTeam): Promise<string> {
  const patient = parseReference(careTeam.subject);
  const person = patient?.type === 'Patient' ? await findResource<Patient>(db, 'Patient', patient.id) : undefined;
  const name = humanNameText(person?.name);
  return `About: ${name ?? 'the person named in the case'}${person?.birthDate ? ` (born ${person.birthDate})` : ''}.`;
}

/**
 * The transcript of a closed case (`case.export`): every message and document of its room from
 * the start, read and decrypted by the bot, stored as two DocumentReferences linked to the
 * CareTeam (context.related), each with its hash: a FHIR Bundle of Communications and
 * DocumentReferences (application/fhir+json), and a readable HTML document. Documents posted in
 * the room are stored as DocumentReferences of their own. One transaction with the AuditEvent
 * and the row's completion: a crash midway leaves nothing, and the export runs again.
 */
export function exportCaseTranscript({ db, writes, bot, media, publicBaseUrl, timeZone, logger }: CloseCaseDeps) {
  return async (job: Job<OutboxJobData<'case.export'>>): Promise<string> => {
    const { outboxId, careTeamId } = job.data;
    if (!(await isOutboxRowOpen(db, outboxId))) return 'already exported';
    const careTeam = await findResource<CareTeam & { id: string }>(db, 'CareTeam', careTeamId);
    if (!careTeam) throw new UnrecoverableError(`CareTeam/${careTeamId} is gone`);
    const record = await readCaseRoom(db, careTeamId);
    if (!record.roomId || record.exportedAt) {
      await markOutboxRowCompleted(db, outboxId);
      return record.roomId ? 'exported before' : 'the case had no room';
    }
    const roomId = record.roomId;
    const history = (await readRoomHistory(bot, roomId)).filter((message) => message.msgtype !== 'm.notice');
    const at = new Date();
    const documents = await inTransaction(db, async (client) => {
      const row = await lockOutboxRow(client, outboxId);
      if (!row || row.completedAt) return [];
      const lines: TranscriptLine[] = [];
      for (const message of history) {
        const guest = await guestMemberOf(client, message.sender);
        const actor =
          message.sender === bot.getUserId()
            ? { name: 'CareHub', role: undefined }
            : guest
              ? { name: await guestLabel(client, guest), role: { reference: guest } }
              : await actorFor(client, message.sender);
        let document: (DocumentReference & { id: string }) | undefined;
        if (message.file) {
          // A file the limits refuse is named in the transcript, not stored; the rest goes on.
          await client.query('SAVEPOINT transcript_file');
          try {
            document = await storeRoomFile(writes, client, media, message.file, { subject: careTeam.subject, author: actor.role, related: [{ reference: `CareTeam/${careTeamId}` }], at: message.at });
            await client.query('RELEASE SAVEPOINT transcript_file');
          } catch (error) {
            await client.query('ROLLBACK TO SAVEPOINT transcript_file');
            logger.warn({ careTeamId, eventId: message.eventId, err: (error as Error).message }, 'a document of the case room was not stored with its transcript');
          }
        }
        lines.push({ message, who: actor.name, role: actor.role, ...(document ? { document } : {}) });
      }
      const title = `Transcript of ${caseRoomName(careTeam)}`;
      const stored: string[] = [];
      const forms = [
        { contentType: 'application/fhir+json', title: `${title} (FHIR Bundle)`, bytes: Buffer.from(JSON.stringify(transcriptBundle(careTeam, roomId, lines, publicBaseUrl, at))) },
        { contentType: 'text/html', title, bytes: Buffer.from(transcriptHtml(title, await whoIsAbout(client, careTeam), lines, timeZone, at)) },
      ];
      for (const form of forms) {
        const { binary, content } = await writes.documents.createBinary(client, form.bytes, form.contentType);
        const document = await createResource<DocumentReference>(writes, client, {
          resourceType: 'DocumentReference',
          status: 'current',
          type: TRANSCRIPT_TYPE,
          ...(careTeam.subject ? { subject: careTeam.subject } : {}),
          date: at.toISOString(),
          description: form.title,
          content: [{ attachment: describedAttachment({ contentType: form.contentType, title: form.title }, binary.id, content) }],
          context: { related: [{ reference: `CareTeam/${careTeamId}` }] },
        });
        stored.push(`DocumentReference/${document.id}`);
      }
      await markClosingStep(client, careTeamId, 'exported');
      await recordCaseStep(client, { careTeamId, step: 'transcript-exported', by: BY_CAREHUB, reason: `${history.length} messages, as ${stored.join(' and ')}` });
      await markOutboxRowCompleted(client, outboxId);
      return stored;
    });
    logger.info({ outboxId, careTeamId, roomId, messages: history.length, documents }, 'case transcript exported');
    return documents.join(' ');
  };
}

/**
 * Removes a closed case's members after its retention and purges its room (`case.purge`): each
 * member removed (the room is read-only already), then the room deleted from the homeserver with
 * the Synapse admin API (purge: its events and media references go), an AuditEvent for each. Without an
 * admin token the bot leaves instead, and the operator is told the room is still stored.
 */
export function purgeCaseRoom({ db, caseRooms, bot, synapseAdminTokenFile, homeserverUrl, logger }: CloseCaseDeps) {
  return async (job: Job<OutboxJobData<'case.purge'>>): Promise<string> => {
    const { outboxId, careTeamId } = job.data;
    if (!(await isOutboxRowOpen(db, outboxId))) return 'already purged';
    const record = await readCaseRoom(db, careTeamId);
    if (!record.roomId || record.purgedAt) {
      await markOutboxRowCompleted(db, outboxId);
      return 'nothing to purge';
    }
    const roomId = record.roomId;
    const removed = await caseRooms.removeEveryone(roomId, 'The case is closed');
    let purged = false;
    if (synapseAdminTokenFile) {
      const token = (await readFile(synapseAdminTokenFile, 'utf8')).trim();
      await purgeRoom(homeserverUrl, token, roomId);
      purged = true;
    } else {
      await bot.leave(roomId).catch(() => undefined);
      logger.warn({ careTeamId, roomId }, 'a closed case room was left, not purged: set cases.synapseAdminTokenFile, or purge it with the Synapse admin API');
    }
    await inTransaction(db, async (client) => {
      const row = await lockOutboxRow(client, outboxId);
      if (!row || row.completedAt) return;
      if (removed.length > 0) await recordCaseStep(client, { careTeamId, step: 'member-removed', by: BY_CAREHUB, members: removed, reason: 'The case is closed' });
      if (purged) await recordCaseStep(client, { careTeamId, step: 'room-purged', by: BY_CAREHUB });
      await markClosingStep(client, careTeamId, 'purged');
      await markOutboxRowCompleted(client, outboxId);
    });
    logger.info({ outboxId, careTeamId, roomId, removed: removed.length, purged }, 'closed case room cleared');
    return purged ? 'purged' : 'left';
  };
}

/** DELETE /_synapse/admin/v2/rooms/<room> with purge, then waits for Synapse to finish it. */
async function purgeRoom(homeserverUrl: string, token: string, roomId: string): Promise<void> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const started = await fetch(new URL(`/_synapse/admin/v2/rooms/${encodeURIComponent(roomId)}`, homeserverUrl), { method: 'DELETE', headers, body: JSON.stringify({ purge: true, block: false }) });
  if (!started.ok) throw new Error(`purging ${roomId}: HTTP ${started.status} ${await started.text()}`);
  const { delete_id: deleteId } = (await started.json()) as { delete_id: string };
  for (let attempt = 0; attempt < 600; attempt++) {
    const status = await fetch(new URL(`/_synapse/admin/v2/rooms/delete_status/${encodeURIComponent(deleteId)}`, homeserverUrl), { headers });
    const body = (await status.json()) as { status?: string; error?: string };
    if (body.status === 'complete') return;
    if (body.status === 'failed') throw new Error(`purging ${roomId} failed: ${body.error ?? 'no reason given'}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`purging ${roomId} did not finish in 5 minutes`);
}
