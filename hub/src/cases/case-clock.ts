import type { CareTeam } from 'fhir/r4.js';
import { BOT_MESSAGES, formatLocalTime, formatOpenHours, isOpenAt, meetingUrl, nextChange } from '@carehub/matrix-bridge';
import type { Logger } from 'pino';
import type { CareHubConfig } from '../config/config-schema.js';
import { inTransaction, type Database, type Queryable } from '../store/database.js';
import { addOutboxRow } from '../store/outbox.js';
import { findResource } from '../store/resource-store.js';
import { actorFor } from '../workflow/room-actor.js';
import type { WriteContext } from '../workflow/write-context.js';
import { BY_CAREHUB, recordCaseStep } from './case-audit.js';
import { casesWithRooms, markClosingStep, readCaseRoom, saveModeration } from './case-room-record.js';
import { meetingTitle, minutesUntil, reminderDue } from './case-meeting-plan.js';
import { markReminded, meetingsToRemind } from './case-meeting-record.js';
import { endUncoveredParticipants } from './follow-consent.js';
import { sweepGuests } from './case-guests.js';

const DAY_MS = 24 * 3600 * 1000;

/** One hub node at a time runs a round (the others find the lock taken and skip it). */
const CASE_CLOCK_LOCK = 7_242_003;

/**
 * What time does to open cases, looked at every `cases.clockSeconds`: a timed mute that has run
 * out is lifted, open hours open and lock the room (with a notice each time), participants
 * an expired Consent no longer covers are removed, guests whose link or access ran out are
 * ended, and a meeting about to start is announced. Everything it acts on is in PostgreSQL, so a
 * restart (or a Redis restart) loses nothing: the next round does what is due. Each case is one
 * transaction; its room follows through `case.settle`.
 */
export class CaseClock {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly writes: WriteContext,
    private readonly settings: Pick<CareHubConfig['cases'], 'timeZone' | 'clockSeconds' | 'removeMembersAfterDays' | 'meetingBaseUrl' | 'meetingReminderMinutes'>,
    private readonly logger: Logger,
  ) {}

  private get timeZone(): string {
    return this.settings.timeZone;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.round = this.round.then(() => this.tick()).catch((error: unknown) => this.logger.warn({ err: (error as Error).message }, 'a case clock round failed; the next one tries again'));
    }, this.settings.clockSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.round;
  }

  /**
   * One round over every case with a room, each case in a transaction of its own (a case that
   * fails is tried again next round; the others go on). A session advisory lock keeps a second
   * hub node from running a round at the same time.
   */
  async tick(at = new Date()): Promise<void> {
    const lock = await this.db.connect();
    try {
      const { rows } = await lock.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [CASE_CLOCK_LOCK]);
      if (!rows[0]?.locked) return;
      try {
        for (const { careTeamId } of await casesWithRooms(this.db)) {
          await inTransaction(this.db, (client) => this.tickCase(client, careTeamId, at)).catch((error: unknown) =>
            this.logger.warn({ careTeamId, err: (error as Error).message }, 'the case clock could not bring a case up to date; next round'),
          );
        }
      } finally {
        await lock.query('SELECT pg_advisory_unlock($1)', [CASE_CLOCK_LOCK]);
      }
    } finally {
      lock.release();
    }
  }

  private async tickCase(client: Queryable, careTeamId: string, at: Date): Promise<void> {
    const careTeam = await findResource<CareTeam & { id: string }>(client, 'CareTeam', careTeamId);
    if (!careTeam) return;
    const record = await readCaseRoom(client, careTeamId, true);
    const guestNotices = await sweepGuests(this.writes, client, careTeam, at);
    if (careTeam.status === 'inactive' || careTeam.status === 'entered-in-error') {
      // Closed: once the transcript is out and the retention has passed, the room is cleared.
      const due = record.exportedAt && record.exportedAt.getTime() + this.settings.removeMembersAfterDays * DAY_MS <= at.getTime();
      if (due && !record.purgeRequestedAt) {
        await markClosingStep(client, careTeamId, 'purge_requested');
        await addOutboxRow(client, 'case.purge', { careTeamId });
      }
      return;
    }
    const roomId = record.roomId!;
    const notice = (text: string) => addOutboxRow(client, 'room.notice', { roomId, notice: { text } });
    for (const text of guestNotices) await notice(text);
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
        await notice(open ? BOT_MESSAGES.case.openedByHours(formatOpenHours(record.openHours)) : BOT_MESSAGES.case.closedByHours(formatLocalTime(nextChange(record.openHours, at, this.timeZone), this.timeZone)));
        changed = true;
      }
    }
    if (changed) {
      await saveModeration(client, record);
      await addOutboxRow(client, 'case.settle', { careTeamId });
    }
    await this.remindOfMeetings(client, careTeamId, roomId, at);
    await endUncoveredParticipants(this.writes, client, careTeam, at);
  }

  /**
   * A meeting starting within `cases.meetingReminderMinutes` is announced once, as a reply to its
   * invitation (encrypted, like every notice: the title may name the person). One that started
   * unannounced (the hub was down) is passed over; one moved later is announced again.
   */
  private async remindOfMeetings(client: Queryable, careTeamId: string, roomId: string, at: Date): Promise<void> {
    for (const { record, appointment } of await meetingsToRemind(client, careTeamId)) {
      const due = reminderDue(appointment, at, this.settings.meetingReminderMinutes, record.remindedStart);
      if (!due) continue;
      if (due === 'remind') {
        const text = BOT_MESSAGES.meeting.reminder(meetingTitle(appointment), minutesUntil(appointment.start!, at), meetingUrl(this.settings.meetingBaseUrl, record.conferenceId));
        await addOutboxRow(client, 'room.notice', { roomId, notice: { text, ...(record.eventId ? { inReplyTo: record.eventId } : {}) } });
      }
      await markReminded(client, appointment.id, careTeamId, appointment.start!);
    }
  }
}
