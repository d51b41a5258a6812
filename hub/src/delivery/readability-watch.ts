import type { Task } from 'fhir/r4.js';
import type { Logger } from 'pino';
import type { RoomSender } from '@carehub/matrix-bridge';
import { inTransaction, type Database } from '../store/database.js';
import { addOutboxRow } from '../store/outbox.js';
import { findResource } from '../store/resource-store.js';
import { FINISHED_STATUSES } from '../workflow/task-transitions.js';
import { removeWaitingReader, waitingReaders, type WaitingReader } from './referral-readers.js';

/** At most this many re-sends per referral and recipient: a device the policy says can read but that never gets the key stops here. */
export const MAX_RESENDS = 3;

/**
 * Watches for recipients who could not read a referral and now have a device that can (it was
 * cross-signed, or the policy became `all`), and queues the referral again for each (outbox
 * topic `referral.resend`). It looks when the bot sees a device or trust change, at start-up
 * and every `intervalMs`, so a change the bot missed while it was down is found too.
 */
export class ReadabilityWatch {
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly sender: RoomSender,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.unsubscribe = this.sender.onDeviceChange((userIds) => this.check(userIds));
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
    this.check();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe?.();
    await this.running;
  }

  /** Looks at the waiting recipients (all, or only `userIds`), one look at a time. */
  check(userIds?: string[]): void {
    this.running = this.running
      .then(() => this.look(userIds))
      .catch((error: unknown) => this.logger.warn({ err: (error as Error).message }, 'checking whether waiting recipients can read their referrals failed; tried again later'));
  }

  private async look(userIds: string[] | undefined): Promise<void> {
    const waiting = await waitingReaders(this.db, userIds);
    if (waiting.length === 0) return;
    const devices = await this.sender.devicesOf([...new Set(waiting.map((w) => w.userId))]);
    for (const reader of waiting) {
      const task = await findResource<Task>(this.db, 'Task', reader.taskId);
      if (!task || FINISHED_STATUSES.has(task.status)) {
        await removeWaitingReader(this.db, reader.taskId, reader.userId);
        continue;
      }
      if (!devices.some((d) => d.userId === reader.userId && d.readable)) continue;
      if (await this.queueResend(reader)) this.logger.info({ taskId: reader.taskId, userId: reader.userId }, 'a waiting recipient has a device that can read; referral queued again');
    }
  }

  /** Queues one re-send unless one is already on its way or the limit is reached; in one transaction with the count. */
  private queueResend(reader: WaitingReader): Promise<boolean> {
    return inTransaction(this.db, async (client) => {
      const { rows } = await client.query<{ resends: number; pending: boolean }>(
        `SELECT w.resends, EXISTS (SELECT 1 FROM outbox o WHERE o.topic = 'referral.resend' AND o.completed_at IS NULL
                                     AND o.payload ->> 'taskId' = w.task_id AND o.payload ->> 'userId' = w.user_id) AS pending
           FROM referral_waiting_readers w WHERE w.task_id = $1 AND w.user_id = $2 FOR UPDATE`,
        [reader.taskId, reader.userId],
      );
      const row = rows[0];
      if (!row || row.pending || row.resends >= MAX_RESENDS) return false;
      await client.query('UPDATE referral_waiting_readers SET resends = resends + 1 WHERE task_id = $1 AND user_id = $2', [reader.taskId, reader.userId]);
      await addOutboxRow(client, 'referral.resend', { taskId: reader.taskId, userId: reader.userId });
      return true;
    });
  }
}
