import { parseAnswerEvent, parseAnswerText } from './referral-answer.js';

test('a GP accepts with a word, a command or a reaction', () => {
  expect(parseAnswerText('accept')).toEqual({ kind: 'action', action: 'accept' });
  expect(parseAnswerText('/accept')).toEqual({ kind: 'action', action: 'accept' });
  expect(parseAnswerText('Accepted, thanks')).toEqual({ kind: 'action', action: 'accept', text: 'thanks' });
  expect(parseAnswerEvent('m.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$x', key: '✅' } })).toEqual({ kind: 'action', action: 'accept' });
  expect(parseAnswerEvent('m.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$x', key: '✔️' } })).toEqual({ kind: 'action', action: 'accept' });
});

test('a GP declines with a reason in any of the usual shapes', () => {
  expect(parseAnswerText('decline: no capacity until March')).toEqual({ kind: 'action', action: 'decline', text: 'no capacity until March' });
  expect(parseAnswerText('❌ no capacity until March')).toEqual({ kind: 'action', action: 'decline', text: 'no capacity until March' });
  expect(parseAnswerText('❌️ Patient moved away')).toEqual({ kind: 'action', action: 'decline', text: 'Patient moved away' });
  expect(parseAnswerText('!reject - wrong practice')).toEqual({ kind: 'action', action: 'decline', text: 'wrong practice' });
});

test('a reply to the referral is read without the quoted original', () => {
  const reply = '> <@carehub:carehub.test> New referral: Home-care assessment\n> Patient: Ole Nielsen\n\ndone. Visit booked for Monday';
  expect(parseAnswerText(reply)).toEqual({ kind: 'action', action: 'complete', text: 'Visit booked for Monday' });
});

test('anything else is conversation; edits, notices and other reactions are not answers', () => {
  expect(parseAnswerText('Can you send the discharge letter?')).toEqual({ kind: 'message', text: 'Can you send the discharge letter?' });
  expect(parseAnswerText('acceptable?')).toEqual({ kind: 'message', text: 'acceptable?' });
  expect(parseAnswerText('help')).toEqual({ kind: 'help' });
  expect(parseAnswerEvent('m.room.message', { msgtype: 'm.text', body: '* accept', 'm.relates_to': { rel_type: 'm.replace', event_id: '$x' } })).toEqual({ kind: 'ignored' });
  expect(parseAnswerEvent('m.room.message', { msgtype: 'm.notice', body: 'accept' })).toEqual({ kind: 'ignored' });
  expect(parseAnswerEvent('m.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$x', key: '👀' } })).toEqual({ kind: 'ignored' });
});
