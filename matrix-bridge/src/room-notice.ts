import { STATUS_RESPONSE_EVENT } from './room-state.js';

/**
 * The bot's short answers in a referral room. m.notice, so other bots do not answer them, and
 * a reply to the event they are about, so the GP sees which message was understood.
 */
export function renderNotice(text: string, inReplyTo?: string) {
  return {
    msgtype: 'm.notice' as const,
    body: text,
    ...(inReplyTo ? { 'm.relates_to': { 'm.in_reply_to': { event_id: inReplyTo } } } : {}),
  };
}

/**
 * gematik MSC4300 processing status for an event: success when the hub could act on it, error
 * (with the reason) when it could not. rel_type m.reference ties it to that event.
 */
export function renderProcessingStatus(aboutEventId: string, fromDevice: string, status: 'success' | 'error', message?: string) {
  return {
    type: STATUS_RESPONSE_EVENT,
    content: {
      from_device: fromDevice,
      status,
      messages: message ? [message] : [],
      'm.relates_to': { rel_type: 'm.reference', event_id: aboutEventId },
    },
  };
}
