/**
 * The state event by which a room says what it is to CareHub. The hub can rebuild its view of
 * every room it manages from this event alone (after a restart, or on a new hub node).
 * State events are not encrypted, so it holds FHIR ids only, never patient data.
 */
export const CAREHUB_ROOM_STATE = 'org.carehub.room';

export interface ReferralRoomState {
  kind: 'referral';
  /** "Task/<id>": the Task that carries the referral's routing state. */
  task: string;
  /** "ServiceRequest/<id>": what is asked for. */
  serviceRequest: string;
}
export type CareHubRoomState = ReferralRoomState;

/** Content key inside (encrypted) messages that links them to the FHIR resources they carry. */
export const CAREHUB_MESSAGE_KEY = 'org.carehub.referral';

/** gematik TI-Messenger processing status (MSC4300): the request, carried in a message. */
export const STATUS_REQUEST_KEY = 'de.gematik.request.status';
/** …and the answer, an event of its own that references the message it is about. */
export const STATUS_RESPONSE_EVENT = 'de.gematik.response.status';
/** gematik MSC4302: which FHIR structure a message's file or resource holds. */
export const FHIR_STRUCTURE_KEY = 'de.gematik.fhir.structure_definition';

/** Content key inside (encrypted) file messages that links a document to its FHIR records. */
export const CAREHUB_DOCUMENT_KEY = 'org.carehub.document';
