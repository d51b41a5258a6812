import { CAREHUB_APPOINTMENT_KEY } from './meeting-message.js';
import { relatedEventIds } from './room-events.js';
import type { TimelineEvent } from './room-kind.js';

/** A member's answer to a meeting's invitation, as FHIR Appointment.participant.status says it. */
export type MeetingAnswerStatus = 'accepted' | 'declined';

/** The words (and emoji) that answer a meeting's invitation; a reply's first word, or a reaction's key. */
export const MEETING_ANSWER_WORDS: Readonly<Record<string, MeetingAnswerStatus>> = {
  yes: 'accepted',
  ja: 'accepted',
  accept: 'accepted',
  accepted: 'accepted',
  '✅': 'accepted',
  '✔': 'accepted',
  '👍': 'accepted',
  no: 'declined',
  nein: 'declined',
  decline: 'declined',
  declined: 'declined',
  '❌': 'declined',
  '👎': 'declined',
};

/** Emoji arrive with or without the variation selector (U+FE0F), and skin tones, depending on the client. */
const normalise = (s: string) => s.replace(/\uFE0F|[\u{1F3FB}-\u{1F3FF}]/gu, '').trim().toLowerCase();

/** A reply's body starts with the quoted original ("> <@bot> …" lines and a blank line); drop it. */
function withoutReplyFallback(body: string): string {
  const lines = body.split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith('>')) i++;
  return lines.slice(i).join('\n').trim();
}

/** The answer a text gives by its first word ("Yes, I'll join", "nein.", "✅"); undefined for anything else. */
export function meetingAnswerOfText(body: string): MeetingAnswerStatus | undefined {
  const first = /^[/!]?\s*(\p{L}+|\p{Extended_Pictographic}(?:\uFE0F|[\u{1F3FB}-\u{1F3FF}])*)/u.exec(withoutReplyFallback(body));
  return first ? MEETING_ANSWER_WORDS[normalise(first[1]!)] : undefined;
}

/** The meeting ("Appointment/<id>") the bot's event `eventId` invites to, if it is such an event. */
const appointmentOf = (event: TimelineEvent, eventId: string): string | undefined => {
  const named = event.botContentOf(eventId)?.[CAREHUB_APPOINTMENT_KEY];
  return typeof named === 'string' && named.startsWith('Appointment/') ? named : undefined;
};

/**
 * Which meeting an event answers: one the bot's event it replies to, reacts to or is in the
 * thread of invites to; or, for a reply to another of the bot's messages (the reminder, a
 * change), the invitation that message is about in turn. A reply to a colleague's message is
 * no answer, whatever it replies to.
 */
function answeredMeeting(event: TimelineEvent): string | undefined {
  const direct = relatedEventIds(event.content);
  for (const id of direct) {
    const appointment = appointmentOf(event, id);
    if (appointment) return appointment;
  }
  if (!direct[0] || !event.botContentOf(direct[0])) return undefined;
  for (const id of event.relatesTo.filter((id) => !direct.includes(id))) {
    const appointment = appointmentOf(event, id);
    if (appointment) return appointment;
  }
  return undefined;
}

/**
 * A member's yes or no to a meeting: a reply (or thread reply) to its invitation whose first
 * word is yes/ja/accept/✅ or no/nein/decline/❌, or a ✅/❌ (👍/👎) reaction to it.
 * Undefined for anything else, which is read as a command or conversation.
 */
export function readMeetingAnswer(event: TimelineEvent): { appointment: string; answer: MeetingAnswerStatus } | undefined {
  const relation = event.content['m.relates_to'] as { rel_type?: string; key?: unknown } | undefined;
  let answer: MeetingAnswerStatus | undefined;
  if (event.type === 'm.reaction') {
    answer = relation?.rel_type === 'm.annotation' && typeof relation.key === 'string' ? MEETING_ANSWER_WORDS[normalise(relation.key)] : undefined;
  } else if (event.type === 'm.room.message') {
    const { body, msgtype } = event.content;
    // Edits (m.replace) repeat a message already read.
    if (typeof body !== 'string' || (msgtype !== 'm.text' && msgtype !== 'm.emote') || relation?.rel_type === 'm.replace') return undefined;
    answer = meetingAnswerOfText(body);
  }
  if (!answer) return undefined;
  const appointment = answeredMeeting(event);
  return appointment ? { appointment, answer } : undefined;
}
