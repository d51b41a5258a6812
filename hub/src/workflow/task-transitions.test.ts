import { canMove, pathFor, refusalFor } from './task-transitions.js';

test('a GP accepting an unread referral records that it was received, then accepted', () => {
  expect(pathFor('accept', 'requested')).toEqual(['received', 'accepted']);
  expect(pathFor('accept', 'received')).toEqual(['accepted']);
});

test('completing an accepted referral passes through in-progress; completing an unaccepted one is refused', () => {
  expect(pathFor('complete', 'accepted')).toEqual(['in-progress', 'completed']);
  expect(pathFor('complete', 'in-progress')).toEqual(['completed']);
  expect(pathFor('complete', 'requested')).toBeUndefined();
  expect(refusalFor('complete', 'requested')).toBe('Accept the referral before marking it completed.');
});

test('finished referrals cannot be answered again', () => {
  expect(pathFor('decline', 'accepted')).toBeUndefined();
  expect(pathFor('accept', 'cancelled')).toBeUndefined();
  expect(refusalFor('accept', 'cancelled')).toBe('This referral is already cancelled; it cannot be accepted now.');
  expect(refusalFor('accept', 'rejected')).toBe('This referral is already declined; it cannot be accepted now.');
});

test('the API may only move a Task along the FHIR state machine', () => {
  expect(canMove('requested', 'cancelled')).toBe(true);
  expect(canMove('in-progress', 'completed')).toBe(true);
  expect(canMove('completed', 'in-progress')).toBe(false);
  expect(canMove('requested', 'completed')).toBe(false);
  expect(canMove('accepted', 'accepted')).toBe(true);
});
