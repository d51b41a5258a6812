/** What /readyz answers: ready, or why not (no details beyond the part that is not ready). */
export interface Readiness {
  ready: boolean;
  reason?: 'starting' | 'stopping' | 'database unavailable';
}

/**
 * Whether this process should be sent work: it has finished starting, is not stopping, and its
 * database answered. The database probe runs at most once per `cacheMs` however often the
 * operator's load balancer asks, and overlapping checks share one probe.
 */
export class ReadinessProbe {
  private phase: 'starting' | 'running' | 'stopping' = 'starting';
  private cached: { at: number; result: Promise<Readiness> } | undefined;

  constructor(
    private readonly probeDatabase: () => Promise<unknown>,
    private readonly options: { cacheMs: number; timeoutMs: number; now?: () => number } = { cacheMs: 5000, timeoutMs: 2000 },
  ) {}

  markRunning(): void {
    this.phase = 'running';
  }

  markStopping(): void {
    this.phase = 'stopping';
  }

  check(): Promise<Readiness> {
    if (this.phase !== 'running') return Promise.resolve({ ready: false, reason: this.phase });
    const now = (this.options.now ?? Date.now)();
    if (!this.cached || now - this.cached.at >= this.options.cacheMs) {
      this.cached = { at: now, result: this.probe() };
    }
    return this.cached.result;
  }

  private async probe(): Promise<Readiness> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('database probe timed out')), this.options.timeoutMs);
    });
    try {
      await Promise.race([this.probeDatabase(), timeout]);
      return { ready: true };
    } catch {
      return { ready: false, reason: 'database unavailable' };
    } finally {
      clearTimeout(timer);
    }
  }
}
