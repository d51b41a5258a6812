import type { CareTeam } from 'fhir/r4.js';
import { BOT_MESSAGES, formatOpenHours, isOpenAt, nextChange } from '@carehub/matrix-bridge';
import type { Logger } from 'pino';
import { inTransaction, type Database, type Queryable } from '../store/database.js';
import { addOutboxRow } from '../store/outbox.js';
import { findResource } from '../store/resource-store.js';
import { actorFor } from '../workflow/room-actor.js';
import type { WriteContext } from '../workflow/write-context.js';
import { BY_CAREHUB, recordCaseStep } from './case-audit.js';
import { casesWithRooms, readCaseRoom, saveModeration } from './case-room-record.js';
import { endUncoveredParticipants } from './follow-consent.js';

/** One hub node at a time runs a round (the others find the lock taken and skip it). */
const CASE_CLOCK_LOCK = 7_242_003;

const formatLocal = (at: Date, timeZone: string) =>
  new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(at);

/**
 * What time does to open cases, looked at every `cases.clockSeconds`: a timed mute that has run
 * out is lifted, open hours open and lock the room (with a notice each time), and participants
 * an expired Consent no longer covers are removed. Everything it acts on is in PostgreSQL, so a
 * restart (or a Redis restart) loses nothing: the next round does what is due. Each case is one
 * transaction; its room follows through `case.settle`.
 */
export class CaseClock {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly writes: WriteContext,
    private readonly timeZone: string,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.round = this.round.then(() => this.tick()).catch((error: unknown) => this.logger.warn({ err: (error as Error).message }, 'a case clock round failed; the next one tries again'));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.round;
  }

  /** One round over every case with a room. */
  async tick(at = new Date()): Promise<void> {
    await inTransaction(this.db, async (client) => {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [CASE_CLOCK_LOCK]);
      if (!rows[0]?.locked) return;
      for (const { careTeamId } of await casesWithRooms(client)) await this.tickCase(client, careTeamId, at);
    });
  }

  private async tickCase(client: Queryable, careTeamId: string, at: Date): Promise<void> {
    const careTeam = await findResource<CareTeam & { id: string }>(client, 'CareTeam', careTeamId);
    if (!careTeam || careTeam.status === 'inactive' || careTeam.status === 'entered-in-error') return;
    const record = await readCaseRoom(client, careTeamId, true);
    const roomId = record.roomId!;
    const notice = (text: string) => addOutboxRow(client, 'room.notice', { roomId, notice: { text } });
    let changed = false;
    for (const [user, until] of Object.entries(record.muted)) {
      if (until === null || new Date(until) > at) continue;
      delete record.muted[user];
      await recordCaseStep(client, { careTeamId, step: 'mute-ended', by: BY_CAREHUB, members: [user] });
      await notice(BOT_MESSAGES.case.unmuted((await actorFor(client, user)).name));
      changed = true;
    }
    if (record.openHours) {
      const open = isOpenAt(record.openHours, at, this.timeZone);
      if (open !== record.hoursOpen) {
        record.hoursOpen = open;
        await recordCaseStep(client, { careTeamId, step: open ? 'opened-by-hours' : 'locked-by-hours', by: BY_CAREHUB });
        await notice(open ? BOT_MESSAGES.case.openedByHours(formatOpenHours(record.openHours)) : BOT_MESSAGES.case.closedByHours(formatLocal(nextChange(record.openHours, at, this.timeZone), this.timeZone)));
        changed = true;
      }
    }
    if (changed) {
      await saveModeration(client, record);
      await addOutboxRow(client, 'case.settle', { careTeamId });
    }
    await endUncoveredParticipants(this.writes, client, careTeam, at);
  }
}
