import type { Job } from 'bullmq';
import type { Appointment, CareTeam } from 'fhir/r4.js';
import { EventType } from 'matrix-js-sdk';
import type { Logger } from 'pino';
import { meetingUrl, meetingWidget, renderMeetingCancellation, renderMeetingInvitation, type CaseRooms, type MeetingView, type RoomSender } from '@carehub/matrix-bridge';
import { CaseRoomNotYetMade } from '../delivery/deliver-communication.js';
import { completeWithSentEvents, matrixTxnIdFor } from '../delivery/referral-delivery-record.js';
import type { OutboxJobData } from '../queue/queues.js';
import type { Database } from '../store/database.js';
import { isOutboxRowOpen, markOutboxRowCompleted } from '../store/outbox.js';
import { findResource } from '../store/resource-store.js';
import { CANCELLED_STATUSES, casesOfAppointment, meetingTitle, UPCOMING_STATUSES } from './case-meeting-plan.js';
import { meetingRecordFor, saveInvitation } from './case-meeting-record.js';
import { readCaseRoom } from './case-room-record.js';

export interface ScheduleMeetingDeps {
  db: Database;
  sender: RoomSender;
  caseRooms: CaseRooms;
  botUserId: string;
  /** cases.timeZone: the invitation says the time on its wall clock. */
  timeZone: string;
  /** cases.meetingBaseUrl. */
  meetingBaseUrl: string;
  logger: Logger;
}

/** What the bot says of a meeting (encrypted only: the description may name the person). */
export function meetingView(appointment: Appointment & { id: string }, url: string, timeZone: string): MeetingView {
  return {
    appointment: `Appointment/${appointment.id}`,
    title: meetingTitle(appointment),
    start: appointment.start ? new Date(appointment.start) : undefined,
    end: appointment.end ? new Date(appointment.end) : undefined,
    note: appointment.comment,
    timeZone,
    url,
  };
}

/**
 * Puts a case meeting into the case's room (`case.meeting`). Upcoming (proposed, pending,
 * booked): the widget with its link in the room's state (no title, time or name there: state is
 * not encrypted) and an encrypted invitation to reply yes or no to; after the first, a change is
 * a reply to it. Cancelled (or no longer linked to this case): the widget removed, the room told.
 * Reads the Appointment as it is now, so rows done late or out of order say the current meeting.
 * Sent once: the Matrix transaction id is the outbox row's.
 */
export function scheduleMeeting({ db, sender, caseRooms, botUserId, timeZone, meetingBaseUrl, logger }: ScheduleMeetingDeps) {
  return async (job: Job<OutboxJobData<'case.meeting'>>): Promise<string> => {
    const { outboxId, appointmentId, careTeamId } = job.data;
    if (!(await isOutboxRowOpen(db, outboxId))) return 'already said';
    const appointment = await findResource<Appointment & { id: string }>(db, 'Appointment', appointmentId);
    const careTeam = await findResource<CareTeam>(db, 'CareTeam', careTeamId);
    if (!appointment || !careTeam) {
      await markOutboxRowCompleted(db, outboxId);
      return 'the Appointment or its case is gone';
    }
    const { roomId } = await readCaseRoom(db, careTeamId);
    if (!roomId) throw new CaseRoomNotYetMade(`CareTeam/${careTeamId} has no room yet`);
    const meeting = await meetingRecordFor(db, appointmentId, careTeamId);
    const view = meetingView(appointment, meetingUrl(meetingBaseUrl, meeting.conferenceId), timeZone);
    const linked = casesOfAppointment(appointment).includes(careTeamId);

    if (!linked || CANCELLED_STATUSES.has(appointment.status)) {
      await caseRooms.removeWidget(roomId, meeting.conferenceId);
      if (!meeting.eventId) {
        await markOutboxRowCompleted(db, outboxId);
        return 'called off before it was announced';
      }
      const eventId = await sender.sendEncrypted(roomId, EventType.RoomMessage, renderMeetingCancellation(view, meeting.eventId), matrixTxnIdFor(outboxId));
      await completeWithSentEvents(db, outboxId, [{ part: 'meeting-cancelled', roomId, eventId }]);
      logger.info({ outboxId, appointmentId, careTeamId, roomId, eventId }, 'case meeting called off in its room');
      return eventId;
    }
    if (!UPCOMING_STATUSES.has(appointment.status)) {
      // Fulfilled, arrived, a no-show: nothing to invite to.
      await markOutboxRowCompleted(db, outboxId);
      return `nothing to say of a meeting ${appointment.status}`;
    }
    const widget = meetingWidget(meetingBaseUrl, meeting.conferenceId, botUserId);
    await caseRooms.setWidget(roomId, widget.stateKey, widget.content);
    const content = renderMeetingInvitation(view, meeting.eventId ? { updated: { inReplyTo: meeting.eventId } } : {});
    const eventId = await sender.sendEncrypted(roomId, EventType.RoomMessage, content, matrixTxnIdFor(outboxId));
    await completeWithSentEvents(db, outboxId, [{ part: 'meeting', roomId, eventId }], (client) => saveInvitation(client, appointmentId, careTeamId, eventId));
    logger.info({ outboxId, appointmentId, careTeamId, roomId, eventId, updated: Boolean(meeting.eventId) }, 'case meeting in its room');
    return eventId;
  };
}
