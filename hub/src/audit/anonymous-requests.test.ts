import { ANONYMOUS_AUDIT_WINDOW_MS, AnonymousRequestTally } from './anonymous-requests.js';

const at = (ms: number) => new Date(Date.UTC(2025, 0, 1) + ms);

test('a minute of refused anonymous requests from one address is one AuditEvent with the count', () => {
  const tally = new AnonymousRequestTally();
  for (let i = 0; i < 500; i++) expect(tally.record('192.0.2.9', i < 300 ? 401 : 429, at(i * 10))).toBeUndefined();
  tally.record('198.51.100.1', 401, at(20));
  expect(tally.close(at(30_000))).toEqual([]);
  // The next refusal after the minute closes the window and starts the next.
  const closed = tally.record('192.0.2.9', 401, at(ANONYMOUS_AUDIT_WINDOW_MS));
  expect(closed).toMatchObject({
    resourceType: 'AuditEvent',
    outcome: '4',
    outcomeDesc: '500 requests without a valid access token (300 answered 401, 200 answered 429)',
    period: { start: at(0).toISOString(), end: at(4990).toISOString() },
    agent: [{ who: { identifier: { value: 'anonymous' } }, network: { address: '192.0.2.9' } }],
    entity: [{ detail: [{ type: 'count', valueString: '500' }, { type: 'HTTP 401', valueString: '300' }, { type: 'HTTP 429', valueString: '200' }] }],
  });
  // A quiet address's window is closed by the periodic flush; everything at shutdown.
  expect(tally.close(at(ANONYMOUS_AUDIT_WINDOW_MS + 20)).map((e) => e.agent[0]!.network!.address)).toEqual(['198.51.100.1']);
  expect(tally.close(at(ANONYMOUS_AUDIT_WINDOW_MS + 30), true).map((e) => e.outcomeDesc)).toEqual(['1 request without a valid access token (1 answered 401)']);
});

test('anonymous reads of the CapabilityStatement alone are a successful outcome', () => {
  const tally = new AnonymousRequestTally();
  tally.record('192.0.2.3', 200, at(0));
  tally.record('192.0.2.3', 200, at(1));
  expect(tally.close(at(ANONYMOUS_AUDIT_WINDOW_MS))).toMatchObject([{ outcome: '0', outcomeDesc: '2 requests without a valid access token (2 answered 200)' }]);
});
