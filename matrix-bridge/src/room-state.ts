/**
 * The state event by which a room says what it is to CareHub. The hub can rebuild its view of
 * every room it manages from this event alone (after a restart, or on a new hub node).
 * State events are not encrypted, so it holds FHIR ids only, never patient data.
 */
export const CAREHUB_ROOM_STATE = 'org.carehub.room';

/**
 * The relation that puts an event into a referral's thread (spec v1.4 threads). `inReplyTo`
 * makes it a reply within the thread; without it, clients that do not show threads see it as a
 * reply to the referral itself (the spec's fallback).
 */
export function inThread(rootEventId: string, inReplyTo?: string) {
  return {
    'm.relates_to': {
      rel_type: 'm.thread',
      event_id: rootEventId,
      is_falling_back: !inReplyTo,
      'm.in_reply_to': { event_id: inReplyTo ?? rootEventId },
    },
  };
}

/** Content key inside (encrypted) messages that links them to the FHIR resources they carry. */
export const CAREHUB_MESSAGE_KEY = 'org.carehub.referral';

/** gematik TI-Messenger processing status (MSC4300): the request, carried in a message. */
export const STATUS_REQUEST_KEY = 'de.gematik.request.status';
/** …and the answer, an event of its own that references the message it is about. */
export const STATUS_RESPONSE_EVENT = 'de.gematik.response.status';
/** gematik MSC4302: which FHIR structure a message's file or resource holds. */
export const FHIR_STRUCTURE_KEY = 'de.gematik.fhir.structure_definition';
/** gematik MSC4302: the FHIR resource itself, inline in the (encrypted) message content. */
export const FHIR_RESOURCE_KEY = 'de.gematik.fhir.resource';

/** Content key inside (encrypted) file messages that links a document to its FHIR records. */
export const CAREHUB_DOCUMENT_KEY = 'org.carehub.document';
