import type { Queue } from 'bullmq';
import pg from 'pg';
import type { Logger } from 'pino';
import type { CareHubConfig } from '../config/config-schema.js';
import type { HubMetrics } from '../metrics.js';
import { inTransaction, type Database } from '../store/database.js';
import type { OutboxTopic } from '../store/outbox.js';
import { mayHaveMoreRows, outboxJobsByTopic, type PendingOutboxRow } from './outbox-batch.js';

/**
 * Moves outbox rows to BullMQ. Rows are picked with FOR UPDATE SKIP LOCKED, so several hubs can
 * relay at once without publishing a row twice; the job id is derived from the row id, so a
 * republish is a no-op while the job still exists in Redis.
 *
 * A row that was published but not completed after `republishAfterMs` is published again: that
 * is how work lost with a Redis restart or flush comes back. Woken by NOTIFY on commit, with a
 * poll as a fallback for missed notifications.
 */
export class OutboxRelay {
  private listener: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly queues: Map<OutboxTopic, Queue>,
    private readonly config: CareHubConfig,
    private readonly logger: Logger,
    private readonly metrics: HubMetrics,
  ) {}

  async start(): Promise<void> {
    await this.listen();
    this.timer = setInterval(() => this.wake(), this.config.outbox.pollIntervalMs);
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    await this.listener?.end().catch(() => undefined);
  }

  /** Runs a pass now, or right after the one in progress. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.publishAll()
      .then(() => undefined)
      .catch((error: unknown) => this.logger.warn({ err: error }, 'outbox relay pass failed; will retry'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Publishes batches until none is left. Returns how many rows it published. */
  async publishAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const published = await this.publishBatch();
      total += published;
      if (!mayHaveMoreRows(published, this.config.outbox.batchSize) || this.stopped) return total;
    }
  }

  private async publishBatch(): Promise<number> {
    return inTransaction(this.db, async (client) => {
      const { rows } = await client.query<PendingOutboxRow>(
        `SELECT id, topic, payload FROM outbox
          WHERE completed_at IS NULL
            AND (published_at IS NULL OR published_at < now() - make_interval(secs => $1::double precision / 1000))
          ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [this.config.outbox.republishAfterMs, this.config.outbox.batchSize],
      );
      if (rows.length === 0) return 0;
      for (const [topic, jobs] of outboxJobsByTopic(rows)) {
        const queue = this.queues.get(topic);
        if (!queue) throw new Error(`no queue for outbox topic ${topic}`);
        await queue.addBulk(jobs);
      }
      for (const row of rows) this.metrics.outboxPublished.inc({ topic: row.topic });
      // If Redis failed above, this never runs and the transaction rolls back: rows stay pending.
      await client.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      this.logger.debug({ count: rows.length }, 'published outbox rows');
      return rows.length;
    });
  }

  private async listen(): Promise<void> {
    const { url } = this.config.database;
    const listener = new pg.Client({ connectionString: url });
    listener.on('notification', () => this.wake());
    // A lost LISTEN connection only slows the relay to its poll interval; reconnect in the background.
    listener.on('error', (error) => {
      this.logger.warn({ err: error }, 'outbox LISTEN connection lost; polling until it is back');
      this.listener = undefined;
      if (!this.stopped) setTimeout(() => void this.listen().catch(() => undefined), 1000);
    });
    await listener.connect();
    await listener.query('LISTEN carehub_outbox');
    this.listener = listener;
  }
}
