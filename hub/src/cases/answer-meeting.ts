import type { Appointment, CareTeam } from 'fhir/r4.js';
import { BOT_MESSAGES, formatLocalTime, type CaseRoomEvent } from '@carehub/matrix-bridge';
import { updateResource } from '../fhir/resource-writer.js';
import type { Queryable } from '../store/database.js';
import { addOutboxRow, type RoomNotice } from '../store/outbox.js';
import { findResource, readResourceForUpdate } from '../store/resource-store.js';
import { actorFor } from '../workflow/room-actor.js';
import type { WriteContext } from '../workflow/write-context.js';
import { CANCELLED_STATUSES, casesOfAppointment, UPCOMING_STATUSES, withParticipantAnswer } from './case-meeting-plan.js';

type MeetingAnswerEvent = CaseRoomEvent & { happening: Extract<CaseRoomEvent['happening'], { kind: 'meeting-answer' }> };

/**
 * A member's yes or no to a meeting of their case, in the event's transaction: the participant
 * acting as their PractitionerRole gets status accepted or declined (added to the Appointment
 * when the integrator did not list them), and the bot confirms in the room. The Appointment's
 * own write effect says nothing more: a change of participants alone is no news to the room.
 */
export async function answerMeeting(
  writes: WriteContext,
  client: Queryable,
  careTeam: CareTeam & { id: string },
  event: MeetingAnswerEvent,
  say: (text: string, status?: RoomNotice['status']) => Promise<void>,
  timeZone: string,
): Promise<void> {
  // A reaction is no message to quote: the confirmation replies to what was reacted to (the invitation).
  const reactedTo = event.eventType === 'm.reaction' ? event.relatesTo[0] : undefined;
  const reply = async (text: string, status: RoomNotice['status']) => {
    if (!reactedTo) return say(text, status);
    await addOutboxRow(client, 'room.notice', { roomId: event.roomId, notice: { text, inReplyTo: reactedTo } });
  };
  const { appointment: reference, answer } = event.happening;
  const appointmentId = reference.slice('Appointment/'.length);
  const found = await findResource<Appointment>(client, 'Appointment', appointmentId);
  // An invitation copied into another case's room answers nothing there.
  if (!found || !casesOfAppointment(found).includes(careTeam.id)) return reply(BOT_MESSAGES.meeting.refusal.gone, 'error');
  if (CANCELLED_STATUSES.has(found.status)) return reply(BOT_MESSAGES.meeting.refusal.cancelled, 'error');
  if (!UPCOMING_STATUSES.has(found.status)) return reply(BOT_MESSAGES.meeting.refusal.over, 'error');
  const actor = await actorFor(client, event.sender);
  if (!actor.role) return reply(BOT_MESSAGES.meeting.refusal.notInDirectory, 'error');
  const appointment = await readResourceForUpdate<Appointment & { id: string }>(client, 'Appointment', appointmentId);
  const answered = withParticipantAnswer(appointment, actor.role, answer);
  if (answered) await updateResource(writes, client, answered);
  const when = appointment.start ? formatLocalTime(new Date(appointment.start), timeZone) : undefined;
  return reply(answer === 'accepted' ? BOT_MESSAGES.meeting.accepted(actor.name, when) : BOT_MESSAGES.meeting.declined(actor.name, when), 'success');
}
