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
