import { CASE_ROOM } from './case-room-kind.js';
import { meetingAnswerOfText, readMeetingAnswer } from './meeting-answer.js';
import type { TimelineEvent } from './room-kind.js';

const INVITATION = '$invitation';
const REMINDER = '$reminder';
const COLLEAGUE = '$colleague';
const botEvents: Record<string, Record<string, unknown>> = {
  [INVITATION]: { msgtype: 'm.text', body: '📅 Case meeting: Discharge planning', 'org.carehub.appointment': 'Appointment/a1' },
  [REMINDER]: { msgtype: 'm.notice', body: '⏰ starts in 15 minutes', 'm.relates_to': { 'm.in_reply_to': { event_id: INVITATION } } },
};

/** An event as RoomEvents hands it to the kind: `relatesTo` the direct relations, then one step on. */
const event = (type: string, content: Record<string, unknown>, oneStepOn: string[] = []): TimelineEvent => {
  const relation = content['m.relates_to'] as { event_id?: string; 'm.in_reply_to'?: { event_id?: string } } | undefined;
  const direct = [relation?.event_id, relation?.['m.in_reply_to']?.event_id].filter((id): id is string => Boolean(id));
  return { type, content, relatesTo: [...new Set([...direct, ...oneStepOn])], botContentOf: (id) => botEvents[id] };
};
const reply = (body: string, to: string, oneStepOn: string[] = []) => event('m.room.message', { msgtype: 'm.text', body, 'm.relates_to': { 'm.in_reply_to': { event_id: to } } }, oneStepOn);
const reaction = (key: string, to: string) => event('m.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: to, key } });

describe('the first word of a reply says yes or no', () => {
  test.each([
    ['yes', 'accepted'],
    ['Yes, I will join from the practice', 'accepted'],
    ['ja gerne', 'accepted'],
    ['✅', 'accepted'],
    ['✅️ see you', 'accepted'],
    ['accept', 'accepted'],
    ['No, I have surgery then', 'declined'],
    ['nein.', 'declined'],
    ['❌', 'declined'],
    ['decline', 'declined'],
  ])('"%s" is %s', (text, answer) => {
    expect(meetingAnswerOfText(text)).toBe(answer);
  });

  test("a reply's quoted fallback is not read as the answer", () => {
    expect(meetingAnswerOfText('> <@carehub:hs> 📅 Case meeting: yes or no\n\nno')).toBe('declined');
  });

  test('anything else is no answer', () => {
    for (const text of ['Maybe, can we move it to 16:00?', 'Noted', 'yesterday was better', '!lock', '']) expect(meetingAnswerOfText(text)).toBeUndefined();
  });
});

describe('an answer is a reply, thread reply or reaction to the invitation', () => {
  test('"yes" replying to the invitation accepts that Appointment', () => {
    expect(readMeetingAnswer(reply('yes', INVITATION))).toEqual({ appointment: 'Appointment/a1', answer: 'accepted' });
  });

  test('"nein" in the invitation\'s thread declines it', () => {
    const threaded = event('m.room.message', { msgtype: 'm.text', body: 'nein', 'm.relates_to': { rel_type: 'm.thread', event_id: INVITATION, is_falling_back: true, 'm.in_reply_to': { event_id: INVITATION } } });
    expect(readMeetingAnswer(threaded)).toEqual({ appointment: 'Appointment/a1', answer: 'declined' });
  });

  test('✅ and ❌ reactions (with or without the variation selector) answer it', () => {
    expect(readMeetingAnswer(reaction('✅️', INVITATION))).toEqual({ appointment: 'Appointment/a1', answer: 'accepted' });
    expect(readMeetingAnswer(reaction('❌', INVITATION))).toEqual({ appointment: 'Appointment/a1', answer: 'declined' });
    expect(readMeetingAnswer(reaction('🎉', INVITATION))).toBeUndefined();
  });

  test("a reply to the bot's reminder answers the invitation it is about", () => {
    expect(readMeetingAnswer(reply('yes', REMINDER, [INVITATION]))).toEqual({ appointment: 'Appointment/a1', answer: 'accepted' });
  });

  test("a reply to a colleague's message is no answer, even when theirs replied to the invitation", () => {
    expect(readMeetingAnswer(reply('no, Thursday', COLLEAGUE, [INVITATION]))).toBeUndefined();
  });

  test('"yes" replying to nothing, an edit, and a notice are no answers', () => {
    expect(readMeetingAnswer(event('m.room.message', { msgtype: 'm.text', body: 'yes' }))).toBeUndefined();
    expect(readMeetingAnswer(event('m.room.message', { msgtype: 'm.text', body: '* yes', 'm.relates_to': { rel_type: 'm.replace', event_id: INVITATION } }))).toBeUndefined();
    expect(readMeetingAnswer(event('m.room.message', { msgtype: 'm.notice', body: 'yes', 'm.relates_to': { 'm.in_reply_to': { event_id: INVITATION } } }))).toBeUndefined();
  });
});

describe('in a case room', () => {
  test('an answer to a meeting comes before commands and conversation', () => {
    expect(CASE_ROOM.readTimelineEvent(reply('Yes, I can join', INVITATION))).toEqual({ happening: { kind: 'meeting-answer', appointment: 'Appointment/a1', answer: 'accepted' } });
    expect(CASE_ROOM.readTimelineEvent(reaction('❌', INVITATION))).toEqual({ happening: { kind: 'meeting-answer', appointment: 'Appointment/a1', answer: 'declined' } });
  });

  test('"yes" to anything else stays conversation', () => {
    expect(CASE_ROOM.readTimelineEvent(reply('yes', COLLEAGUE))).toEqual({ happening: { kind: 'message', text: 'yes' } });
  });
});
