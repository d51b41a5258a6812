import { matrixTxnIdFor, referralDeliveryOf } from './referral-delivery-record.js';

const sent = (part: string, eventId: string) => ({ completed: true, part, room_id: '!room:hub', event_id: eventId });

test('a referral never queued for delivery has no room to talk in', () => {
  expect(referralDeliveryOf([])).toEqual({ state: 'none' });
});

test('while its delivery is queued or in flight, messages about the referral wait', () => {
  expect(referralDeliveryOf([{ completed: false, part: null, room_id: null, event_id: null }])).toEqual({ state: 'pending' });
  // A resend still open holds back later messages too, even after the first delivery completed.
  expect(referralDeliveryOf([sent('message', '$m'), { completed: false, part: null, room_id: null, event_id: null }])).toEqual({ state: 'pending' });
});

test('a delivered referral is found by its message event, whatever else the row sent', () => {
  expect(referralDeliveryOf([sent('summary', '$s'), sent('message', '$m')])).toEqual({ state: 'delivered', roomId: '!room:hub', messageEventId: '$m' });
});

test('a delivery that completed without sending (cancelled first) leaves no room', () => {
  expect(referralDeliveryOf([{ completed: true, part: null, room_id: null, event_id: null }])).toEqual({ state: 'none' });
});

test("an outbox row's Matrix transaction ids are the same on every retry", () => {
  expect(matrixTxnIdFor('42')).toBe('carehub-outbox-42');
  expect(matrixTxnIdFor('42', 'message')).toBe('carehub-outbox-42');
  expect(matrixTxnIdFor('42', 'summary')).toBe('carehub-outbox-42-summary');
});
