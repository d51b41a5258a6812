import type { Binary, DocumentReference, Reference, Task } from 'fhir/r4.js';
import { downloadEncryptedStream, type EncryptedFile } from '@carehub/matrix-bridge';
import { storeContent } from '../documents/binary-content-store.js';
import { assertAllowedContentType, tooLarge } from '../documents/content-limits.js';
import { describedAttachment } from '../documents/document-store.js';
import { FhirError } from '../fhir/operation-outcome.js';
import { createResource, updateResource } from '../fhir/resource-writer.js';
import type { Queryable } from '../store/database.js';
import { randomUUID } from 'node:crypto';
import type { WriteContext } from './write-context.js';
import { ORIGIN_TAG_SYSTEM } from './write-effect-plan.js';

export interface RoomMedia {
  homeserverUrl: string;
  /** The bot's access token (the bot is a member of every referral room). */
  accessToken: () => string;
}

export interface ReceivedDocument {
  file: EncryptedFile;
  filename: string;
  mimetype: string | undefined;
  size: number | undefined;
}

export const FROM_MATRIX = { system: ORIGIN_TAG_SYSTEM, code: 'matrix', display: 'Posted in a CareHub Matrix room' };

/**
 * A file posted in a CareHub room, into FHIR: downloaded and decrypted as it streams (the Matrix
 * hash is checked at the end), checked against the document limits, and stored as an
 * OpenPGP-encrypted Binary with a DocumentReference (`subject`, `author`, `related` as given).
 * Runs in the caller's transaction: a file that fails any check leaves nothing behind. Throws a
 * FhirError (413/415) or an integrity error for the caller to report.
 */
export async function storeRoomFile(
  writes: WriteContext,
  db: Queryable,
  media: RoomMedia,
  document: ReceivedDocument,
  record: { subject: Reference | undefined; author: Reference | undefined; related: Reference[]; at: Date },
): Promise<DocumentReference & { id: string }> {
  const settings = writes.documents.settings();
  const type = assertAllowedContentType(document.mimetype, settings);
  if ((document.size ?? 0) > settings.maxSizeBytes) throw tooLarge(settings.maxSizeBytes);
  const plaintext = await downloadEncryptedStream(media.homeserverUrl, media.accessToken(), document.file);
  const content = await storeContent(db, writes.documents.contentStoreDeps(), plaintext, type);
  const binary = await createResource<Binary>(writes, db, { resourceType: 'Binary', contentType: type, meta: { tag: [FROM_MATRIX] } }, { id: randomUUID() });
  await db.query('UPDATE binary_content SET binary_id = $2, version_id = $3 WHERE content_id = $1', [content.contentId, binary.id, Number(binary.meta!.versionId)]);
  return createResource<DocumentReference>(writes, db, {
    resourceType: 'DocumentReference',
    meta: { tag: [FROM_MATRIX] },
    status: 'current',
    ...(record.subject ? { subject: record.subject } : {}),
    date: record.at.toISOString(),
    ...(record.author ? { author: [record.author] } : {}),
    description: document.filename,
    content: [{ attachment: describedAttachment({ contentType: type, title: document.filename }, binary.id!, content) }],
    context: { related: record.related },
  });
}

/**
 * A file a participant posted in a referral room: stored (storeRoomFile) as a document of the
 * referral (related to its Task and request) and added to Task.output. Returns the DocumentReference.
 */
export async function receiveRoomDocument(
  writes: WriteContext,
  db: Queryable,
  media: RoomMedia,
  task: Task & { id: string },
  document: ReceivedDocument,
  author: Reference | undefined,
  at: Date,
): Promise<DocumentReference & { id: string }> {
  const stored = await storeRoomFile(writes, db, media, document, { subject: task.for, author, related: [{ reference: `Task/${task.id}` }, ...(task.focus ? [task.focus] : [])], at });
  await updateResource(writes, db, {
    ...task,
    output: [...(task.output ?? []), { type: { text: 'Document from the recipient' }, valueReference: { reference: `DocumentReference/${stored.id}`, display: document.filename } }],
  });
  return stored;
}

export function isRefusal(error: unknown): error is FhirError {
  return error instanceof FhirError && (error.status === 413 || error.status === 415);
}
