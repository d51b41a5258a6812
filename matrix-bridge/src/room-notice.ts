import { inThread, STATUS_RESPONSE_EVENT } from './room-state.js';
import { BOT_MESSAGES } from './bot-messages.js';

/**
 * The bot's short answers in a referrals room. m.notice, so other bots do not answer them; in
 * the referral's thread (`threadRoot`, its message) when the notice is about one referral; a
 * reply to the event they are about, so the GP sees which message was understood.
 */
export function renderNotice(text: string, where: { threadRoot?: string; inReplyTo?: string }) {
  const { threadRoot, inReplyTo } = where;
  const relation = threadRoot ? inThread(threadRoot, inReplyTo) : inReplyTo ? { 'm.relates_to': { 'm.in_reply_to': { event_id: inReplyTo } } } : {};
  return { msgtype: 'm.notice' as const, body: text, ...relation };
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

/**
 * The room's pinned first message: what the room is and how to answer. No patient data: it is
 * shared with every device, verified or not, so it can tell an unverified login what to do.
 */
export function renderRoomIntro(title: string | undefined) {
  return { msgtype: 'm.notice' as const, body: BOT_MESSAGES.roomIntro(title) };
}

/**
 * Tells recipients that a referral waits for them but none of their logins can read it. Shared
 * with every device, so it holds no patient data: not who, not what, only that and what to do.
 */
export function renderUnreadableNotice(userIds: string[]) {
  return { msgtype: 'm.notice' as const, body: BOT_MESSAGES.unreadable(userIds.join(', ')) };
}
