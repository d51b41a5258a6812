import { UnrecoverableError, type Job } from 'bullmq';
import type { DocumentReference } from 'fhir/r4.js';
import { EventType } from 'matrix-js-sdk';
import { CAREHUB_DOCUMENT_KEY, inThread, uploadEncryptedStream } from '@carehub/matrix-bridge';
import { decryptContent, findContentOf } from '../documents/binary-content-store.js';
import type { OutboxJobData } from '../queue/queues.js';
import { findResource } from '../store/resource-store.js';
import type { MatrixDeliveryDeps } from './deliver-referral.js';
import { completeWithSentEvents, matrixTxnIdFor, referralRoomFor } from './referral-delivery-record.js';

const EXTENSION_FOR: Record<string, string> = {
  'application/pdf': 'pdf',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'application/fhir+json': 'fhir.json',
  'text/plain': 'txt',
};

/**
 * Puts a document into its referral's thread as an encrypted m.file: the Binary is decrypted from
 * storage and re-encrypted for Matrix as it streams (never whole in memory, never on disk in
 * plaintext), uploaded, and announced with its title and DocumentReference.
 */
export function deliverDocument({ db, writes, sender, homeserverUrl, logger }: MatrixDeliveryDeps & { homeserverUrl: string }) {
  return async (job: Job<OutboxJobData<'document.deliver'>>): Promise<string> => {
    const { outboxId, taskId, documentReferenceId } = job.data;
    const delivery = await referralRoomFor(db, outboxId, taskId);
    if (!delivery) return 'nothing to send';
    const document = await findResource<DocumentReference & { id: string }>(db, 'DocumentReference', documentReferenceId);
    const attachment = document?.content[0]?.attachment;
    const binaryId = attachment?.url?.match(/Binary\/([^/]+)$/)?.[1];
    const content = binaryId ? await findContentOf(db, binaryId) : undefined;
    if (!document || !attachment || !content) throw new UnrecoverableError(`DocumentReference/${documentReferenceId} or its content is gone`);

    const title = attachment.title ?? document.description ?? document.type?.text ?? 'Document';
    const filename = /\.[a-z]+$/i.test(title) ? title : `${title}.${EXTENSION_FOR[content.contentType] ?? 'bin'}`;
    const file = await uploadEncryptedStream(homeserverUrl, sender.accessToken, decryptContent(db, writes.documents.crypto(), content), {
      filename,
      mimetype: content.contentType,
      size: content.size,
    });
    const eventId = await sender.sendEncrypted(
      delivery.roomId,
      EventType.RoomMessage,
      {
        ...file,
        // The caption (Matrix v1.10: body beside filename) names the document and its FHIR record.
        body: `📄 ${title} (DocumentReference/${documentReferenceId})`,
        [CAREHUB_DOCUMENT_KEY]: { documentReference: `DocumentReference/${documentReferenceId}`, task: `Task/${taskId}` },
        ...inThread(delivery.messageEventId),
      },
      matrixTxnIdFor(outboxId, 'document'),
    );
    await completeWithSentEvents(db, outboxId, [{ part: 'document', roomId: delivery.roomId, eventId }]);
    logger.info({ outboxId, taskId, documentReferenceId, eventId, size: content.size }, 'document delivered to the referral room');
    return eventId;
  };
}
