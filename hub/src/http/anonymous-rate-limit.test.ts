import { AnonymousRequestBuckets, clientAddressKey } from './anonymous-rate-limit.js';

test('an address gets its burst, then one request per refill, and is told how long to wait', () => {
  let now = 0;
  const buckets = new AnonymousRequestBuckets({ burst: 3, refillPerSecond: 0.5, maxAddresses: 10 }, () => now);
  expect([1, 2, 3].map(() => buckets.take('192.0.2.1'))).toEqual([0, 0, 0]);
  expect(buckets.take('192.0.2.1')).toBe(2);
  // Another address is not affected.
  expect(buckets.take('192.0.2.2')).toBe(0);
  now = 2000;
  expect(buckets.take('192.0.2.1')).toBe(0);
  expect(buckets.take('192.0.2.1')).toBe(2);
});

test('the buckets remember at most maxAddresses addresses, forgetting the least recently refused', () => {
  let now = 0;
  const buckets = new AnonymousRequestBuckets({ burst: 1, refillPerSecond: 1, maxAddresses: 2 }, () => now);
  buckets.take('a');
  buckets.take('b');
  buckets.take('a');
  buckets.take('c');
  expect(buckets.size).toBe(2);
  now = 1;
  // "b" was forgotten, so it starts with a full bucket; "a" has none left.
  expect(buckets.take('b')).toBe(0);
});

test('IPv4 is limited by address, IPv6 by its /64', () => {
  expect(clientAddressKey('192.0.2.7')).toBe('192.0.2.7');
  expect(clientAddressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
  expect(clientAddressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
  expect(clientAddressKey('2001:0db8:0001:0002:ffff:0:0:2')).toBe('2001:db8:1:2::/64');
  expect(clientAddressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
  expect(clientAddressKey('::1')).toBe('0:0:0:0::/64');
  expect(clientAddressKey(undefined)).toBe('unknown');
});
