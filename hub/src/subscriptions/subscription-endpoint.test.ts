import { classifyAddress, endpointRefusal, firstNonPublicAddress, parseAllowedHosts, type AddressKind } from './subscription-endpoint.js';

describe('which addresses a rest-hook may reach', () => {
  test.each<[string, AddressKind]>([
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'shared'],
    ['192.0.2.10', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['2606:4700::1111', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['ff02::1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:c0a8:101::', 'private'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  test('a host name is not an address: it is checked after DNS, at delivery', () => {
    expect(classifyAddress('hooks.example.org')).toBeUndefined();
  });
});

describe('what an integrator may name as channel.endpoint', () => {
  const refusal = (url: string, allowed: string[] = []) => endpointRefusal(new URL(url), parseAllowedHosts(allowed));

  test.each([
    ['http://127.0.0.1:6379', /loopback address \(127\.0\.0\.1\)/],
    ['http://localhost:5432', /loopback address \(localhost\)/],
    ['https://api.localhost/', /loopback address/],
    ['http://10.0.0.1/', /private network address \(10\.0\.0\.1\)/],
    ['https://169.254.169.254/latest/meta-data/', /link-local address/],
    ['http://[::1]/', /loopback address \(::1\)/],
    ['https://[fd00::1]/', /private network address/],
    ['https://[::ffff:192.168.0.1]/', /private network address/],
    ['http://0.0.0.0:8080/', /unspecified address/],
    // Spellings the URL parser turns into 127.0.0.1.
    ['http://2130706433/', /loopback address \(127\.0\.0\.1\)/],
    ['http://0x7f.1/', /loopback address/],
    ['https://redis/', /public host with its domain/],
    ['http://hooks.example.org/notify', /must be https/],
    ['ftp://hooks.example.org/', /http\(s\) URL/],
  ])('%s is refused', (url, rule) => {
    expect(refusal(url)).toMatch(rule);
  });

  test('https on a public host is accepted', () => {
    expect(refusal('https://hooks.example.org/fhir')).toBeUndefined();
    expect(refusal('https://93.184.215.14:8443/hook')).toBeUndefined();
  });

  test('a host the operator listed may be plain http and private; a listed port allows that port only', () => {
    expect(refusal('http://127.0.0.1:40123/fhir-hook', ['127.0.0.1'])).toBeUndefined();
    expect(refusal('http://hooks.internal:8443/', ['hooks.internal:8443'])).toBeUndefined();
    expect(refusal('http://hooks.internal:8444/', ['hooks.internal:8443'])).toMatch(/public host with its domain|must be https/);
    expect(refusal('http://[::1]/', ['[::1]:80'])).toBeUndefined();
    expect(refusal('http://Hooks.Example.ORG/', ['hooks.example.org'])).toBeUndefined();
    expect(refusal('http://127.0.0.1:6379/', ['127.0.0.1:8080'])).toMatch(/loopback/);
  });
});

describe('at delivery, the addresses a host name resolved to', () => {
  const allowed = parseAllowedHosts(['hooks.internal']);

  test('a public name resolving to a private address is not contacted', () => {
    expect(firstNonPublicAddress(new URL('https://rebind.example.org/'), ['93.184.215.14', '127.0.0.1'], [])).toEqual({ address: '127.0.0.1', kind: 'loopback' });
    expect(firstNonPublicAddress(new URL('https://v6.example.org/'), ['::ffff:169.254.169.254'], [])).toEqual({ address: '::ffff:169.254.169.254', kind: 'link-local' });
  });

  test('public addresses, or any address of a listed host, are contacted', () => {
    expect(firstNonPublicAddress(new URL('https://hooks.example.org/'), ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'], [])).toBeUndefined();
    expect(firstNonPublicAddress(new URL('http://hooks.internal/'), ['10.2.3.4'], allowed)).toBeUndefined();
  });
});
