import { firstRecordedReferral, onlyOpenReferral, receiptScopeOf, referralClueOf } from './which-referral.js';

test("a reply to the bot's referral message is about the Task that message names", () => {
  expect(referralClueOf({ referral: 'Task/t1', relatesTo: ['$referral'] })).toEqual({ kind: 'named', taskId: 't1' });
  // A name that is no Task reference names no referral; it is not guessed from the room.
  expect(referralClueOf({ referral: 'ServiceRequest/s1', relatesTo: ['$referral'] })).toEqual({ kind: 'named', taskId: undefined });
});

test('an event in a thread, a reply or a reaction is about what the hub recorded sending for the events it relates to', () => {
  expect(referralClueOf({ relatesTo: ['$root', '$reply'] })).toEqual({ kind: 'related', eventIds: ['$root', '$reply'] });
});

test('a message typed at the top of the room is about the room', () => {
  expect(referralClueOf({ relatesTo: [] })).toEqual({ kind: 'room' });
});

test('the first related event with a recorded delivery decides, whatever order the records come in', () => {
  const recorded = [
    { event_id: '$notice', task_id: 't2' },
    { event_id: '$referral', task_id: 't1' },
  ];
  // A reply in t1's thread to the bot's notice about t2: the thread's root comes first.
  expect(firstRecordedReferral(['$referral', '$notice'], recorded)).toBe('t1');
  expect(firstRecordedReferral(['$member-message', '$notice'], recorded)).toBe('t2');
  expect(firstRecordedReferral(['$unknown'], recorded)).toBeUndefined();
  expect(firstRecordedReferral([], recorded)).toBeUndefined();
});

test('in a room with one open referral, "done" means that one; with several or none, no referral', () => {
  expect(onlyOpenReferral([{ id: 't1', status: 'accepted' }, { id: 't2', status: 'completed' }, { id: 't3', status: 'cancelled' }])).toBe('t1');
  expect(onlyOpenReferral([{ id: 't1', status: 'requested' }, { id: 't2', status: 'in-progress' }])).toBeUndefined();
  expect(onlyOpenReferral([{ id: 't1', status: 'rejected' }, { id: 't2', status: 'failed' }])).toBeUndefined();
  expect(onlyOpenReferral([])).toBeUndefined();
});

test("a read receipt in a referral's thread covers that referral; one on the timeline covers everything up to the event read", () => {
  expect(receiptScopeOf({ relatesTo: ['$read', '$root'] }, '$read')).toEqual({ kind: 'thread', rootEventId: '$root' });
  expect(receiptScopeOf({ relatesTo: ['$read'] }, '$read')).toEqual({ kind: 'timeline', upTo: '$read' });
  expect(receiptScopeOf({ relatesTo: [] }, '$read')).toEqual({ kind: 'timeline', upTo: '$read' });
});
