import { ReadinessProbe } from './readiness-probe.js';

describe("the operator's readiness check", () => {
  let clock = 0;
  const now = () => clock;

  test('a process is not ready while starting or stopping, whatever the database says', async () => {
    const probe = new ReadinessProbe(async () => undefined, { cacheMs: 5000, timeoutMs: 100, now });
    expect(await probe.check()).toEqual({ ready: false, reason: 'starting' });
    probe.markRunning();
    expect(await probe.check()).toEqual({ ready: true });
    probe.markStopping();
    expect(await probe.check()).toEqual({ ready: false, reason: 'stopping' });
  });

  test('the database is probed at most once per cache period, however often the check is asked', async () => {
    let probes = 0;
    const probe = new ReadinessProbe(async () => probes++, { cacheMs: 5000, timeoutMs: 100, now });
    probe.markRunning();
    await Promise.all(Array.from({ length: 20 }, () => probe.check()));
    clock += 4999;
    await probe.check();
    expect(probes).toBe(1);
    clock += 1;
    await probe.check();
    expect(probes).toBe(2);
  });

  test('a database that fails or hangs makes the process not ready', async () => {
    const failing = new ReadinessProbe(async () => Promise.reject(new Error('ECONNREFUSED')), { cacheMs: 5000, timeoutMs: 100, now });
    failing.markRunning();
    expect(await failing.check()).toEqual({ ready: false, reason: 'database unavailable' });
    const hanging = new ReadinessProbe(() => new Promise(() => undefined), { cacheMs: 5000, timeoutMs: 50, now });
    hanging.markRunning();
    expect(await hanging.check()).toEqual({ ready: false, reason: 'database unavailable' });
  });
});
