/**
 * Lets the bot's ordinary room sends run side by side while a send that changes how room keys
 * are shared (for every device, or for a few members only) runs alone: that change is made on
 * the bot's crypto as a whole, and a send in another room must never pick it up.
 */
export class SendGate {
  private ordinary = 0;
  private alone = false;
  private waitingAlone = 0;
  private waiters: Array<() => void> = [];

  async ordinarySend<T>(send: () => Promise<T>): Promise<T> {
    while (this.alone || this.waitingAlone > 0) await this.nextChange();
    this.ordinary++;
    try {
      return await send();
    } finally {
      this.ordinary--;
      this.wake();
    }
  }

  async sendAlone<T>(send: () => Promise<T>): Promise<T> {
    this.waitingAlone++;
    try {
      while (this.alone || this.ordinary > 0) await this.nextChange();
    } finally {
      this.waitingAlone--;
    }
    this.alone = true;
    try {
      return await send();
    } finally {
      this.alone = false;
      this.wake();
    }
  }

  private nextChange(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
