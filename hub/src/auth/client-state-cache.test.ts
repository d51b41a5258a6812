import { ClientStateCache } from './client-state-cache.js';

/** A client table the test can change, counting the look-ups the cache makes. */
function clientTable(initial: Record<string, boolean>) {
  const states = new Map(Object.entries(initial));
  const lookUps: string[] = [];
  return {
    states,
    lookUps,
    lookUp: async (clientId: string) => {
      lookUps.push(clientId);
      return states.get(clientId) ?? false;
    },
  };
}

describe("a client's state, remembered for a few seconds", () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => (clock = 1_000_000));

  test('an active client is looked up once per TTL, however many requests it makes', async () => {
    const table = clientTable({ clinic: true });
    const cache = new ClientStateCache(table.lookUp, { ttlMs: 5000, maxEntries: 10, now });
    expect(await Promise.all([cache.isActive('clinic'), cache.isActive('clinic'), cache.isActive('clinic')])).toEqual([true, true, true]);
    clock += 4999;
    expect(await cache.isActive('clinic')).toBe(true);
    expect(table.lookUps).toEqual(['clinic']);
  });

  test('an operator disables a client: it is refused once the TTL has passed', async () => {
    const table = clientTable({ clinic: true });
    const cache = new ClientStateCache(table.lookUp, { ttlMs: 5000, maxEntries: 10, now });
    expect(await cache.isActive('clinic')).toBe(true);
    table.states.set('clinic', false);
    clock += 5000;
    expect(await cache.isActive('clinic')).toBe(false);
  });

  test('a deleted or unknown client is not active', async () => {
    const table = clientTable({ clinic: true });
    const cache = new ClientStateCache(table.lookUp, { ttlMs: 5000, maxEntries: 10, now });
    expect(await cache.isActive('clinic')).toBe(true);
    table.states.delete('clinic');
    clock += 5000;
    expect(await cache.isActive('clinic')).toBe(false);
    expect(await cache.isActive('never-registered')).toBe(false);
  });

  test('many different client ids never grow the cache past its bound', async () => {
    const table = clientTable({});
    const cache = new ClientStateCache(table.lookUp, { ttlMs: 5000, maxEntries: 3, now });
    for (let i = 0; i < 50; i++) await cache.isActive(`client-${i}`);
    expect(cache.size).toBe(3);
    // The most recent ones are the ones kept.
    await cache.isActive('client-49');
    expect(table.lookUps.filter((id) => id === 'client-49')).toHaveLength(1);
  });

  test('a failed look-up (the database is down) is not remembered', async () => {
    let fail = true;
    const cache = new ClientStateCache(
      async () => {
        if (fail) throw new Error('connection refused');
        return true;
      },
      { ttlMs: 5000, maxEntries: 10, now },
    );
    await expect(cache.isActive('clinic')).rejects.toThrow('connection refused');
    fail = false;
    expect(await cache.isActive('clinic')).toBe(true);
  });
});
