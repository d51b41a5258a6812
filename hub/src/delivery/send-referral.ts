import { EventType } from 'matrix-js-sdk';
import { type Audience, fhirGoesInThread, renderReferralFhirFile, type RoomSender } from '@carehub/matrix-bridge';
import { matrixTxnIdFor, type SentEvent } from './referral-delivery-record.js';
import { REFERRAL_PAYLOAD_STRUCTURE, uploadReferralFhir, type RenderedReferral } from './referral-fhir-payload.js';

/**
 * Sends a referral's event (the referral, an edit or a re-send of it) and, only when its FHIR
 * was too large to ride inline, the FHIR as an encrypted file in the referral's thread. The
 * usual referral is one event.
 */
export async function sendReferralEvents(
  sender: RoomSender,
  where: { roomId: string; outboxId: string; part: string; threadRoot?: string },
  rendered: RenderedReferral,
  content: object,
  audience?: Audience,
): Promise<SentEvent[]> {
  const { roomId, outboxId, part } = where;
  const eventId = await sender.sendEncrypted(roomId, EventType.RoomMessage, content, matrixTxnIdFor(outboxId, part), audience);
  const sent: SentEvent[] = [{ part, roomId, eventId }];
  if (fhirGoesInThread(rendered.content)) {
    const file = renderReferralFhirFile(rendered.view, await uploadReferralFhir(sender, rendered), REFERRAL_PAYLOAD_STRUCTURE, where.threadRoot ?? eventId);
    sent.push({ part: `${part}-fhir`, roomId, eventId: await sender.sendEncrypted(roomId, EventType.RoomMessage, file, matrixTxnIdFor(outboxId, `${part}-fhir`), audience) });
  }
  return sent;
}
