import { pino } from 'pino';
import { KeyShareLedger } from './key-share-ledger.js';

describe("the key-share ledger reads what the bot's crypto did from its own requests", () => {
  const hs = 'http://127.0.0.1:8008/_matrix/client/v3';
  const room = '!room:carehub.test';

  test('ties a room send to its Megolm session and lists who that session was withheld from, and why', () => {
    const ledger = new KeyShareLedger(pino({ level: 'silent' }));
    ledger.observe(`${hs}/sendToDevice/m.room_key.withheld/txn1`, {
      method: 'PUT',
      body: JSON.stringify({
        messages: {
          '@nio:carehub.test': { NIODEVICE: { room_id: room, session_id: 'S1', code: 'm.unverified', reason: 'not verified' } },
          '@gp:carehub.test': { OLD: { room_id: room, session_id: 'S1', code: 'm.no_olm' } },
        },
      }),
    });
    ledger.observe(`${hs}/rooms/${encodeURIComponent(room)}/send/m.room.encrypted/carehub-outbox-7`, {
      method: 'PUT',
      body: JSON.stringify({ algorithm: 'm.megolm.v1.aes-sha2', session_id: 'S1', ciphertext: 'x' }),
    });
    expect(ledger.sessionOf(room, 'carehub-outbox-7')).toBe('S1');
    expect(ledger.withheldIn(room, 'S1')).toEqual([
      { userId: '@nio:carehub.test', deviceId: 'NIODEVICE', code: 'm.unverified' },
      { userId: '@gp:carehub.test', deviceId: 'OLD', code: 'm.no_olm' },
    ]);
    expect(ledger.withheldIn(room, 'S2')).toEqual([]);
  });

  test('ignores every other request', () => {
    const ledger = new KeyShareLedger(pino({ level: 'silent' }));
    ledger.observe(`${hs}/sync?timeout=30000`, { method: 'GET' });
    ledger.observe(`${hs}/keys/upload`, { method: 'POST', body: '{}' });
    ledger.observe(`${hs}/rooms/${encodeURIComponent(room)}/send/m.room.message/t1`, { method: 'PUT', body: JSON.stringify({ session_id: 'plain?' }) });
    expect(ledger.sessionOf(room, 't1')).toBeUndefined();
  });
});
