/** Issue 11: a disabled client's existing token is refused within 10 s; 5 s leaves room. */
export const CLIENT_STATE_TTL_MS = 5000;

/**
 * Whether a SMART client is still active, remembered for a few seconds so that a busy
 * integrator's requests cost one database look-up per TTL, not one each. A client disabled or
 * deleted by an operator has its existing tokens refused at most `ttlMs` later.
 *
 * The map is bounded: at `maxEntries`, expired entries are dropped, and if it is still full the
 * oldest entry goes (a Map iterates in insertion order). Look-ups of one client that overlap
 * share one query. A failed look-up is not remembered.
 */
export class ClientStateCache {
  private readonly entries = new Map<string, { expiresAt: number; active: Promise<boolean> }>();

  constructor(
    private readonly lookUp: (clientId: string) => Promise<boolean>,
    private readonly options: { ttlMs: number; maxEntries: number; now?: () => number } = { ttlMs: CLIENT_STATE_TTL_MS, maxEntries: 1000 },
  ) {}

  isActive(clientId: string): Promise<boolean> {
    const now = this.now();
    const cached = this.entries.get(clientId);
    if (cached && cached.expiresAt > now) return cached.active;
    this.entries.delete(clientId);
    this.makeRoom(now);
    const active = this.lookUp(clientId);
    const entry = { expiresAt: now + this.options.ttlMs, active };
    this.entries.set(clientId, entry);
    active.catch(() => {
      if (this.entries.get(clientId) === entry) this.entries.delete(clientId);
    });
    return active;
  }

  /** How many clients are remembered (for tests of the bound). */
  get size(): number {
    return this.entries.size;
  }

  private makeRoom(now: number): void {
    if (this.entries.size < this.options.maxEntries) return;
    for (const [clientId, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(clientId);
    while (this.entries.size >= this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
