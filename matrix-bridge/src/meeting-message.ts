import { BOT_MESSAGES } from './bot-messages.js';
import { formatLocalTime } from './open-hours.js';
import { escapeHtml } from './referral-message.js';

/** Content key inside the bot's (encrypted) meeting messages: "Appointment/<id>", the meeting a reply or reaction answers. */
export const CAREHUB_APPOINTMENT_KEY = 'org.carehub.appointment';

/** The room state type Element (and other widget hosts) read a room's widgets from. */
export const WIDGET_STATE = 'im.vector.modular.widgets';

/** What the bot says of a meeting, already resolved from FHIR by the hub. Said only in encrypted messages. */
export interface MeetingView {
  /** "Appointment/<id>". */
  appointment: string;
  /** Appointment.description (the subject line), else its service or type, else BOT_MESSAGES.meeting.untitled. */
  title: string;
  start: Date | undefined;
  end: Date | undefined;
  note?: string | undefined;
  /** cases.timeZone: the times are said on its wall clock. */
  timeZone: string;
  url: string;
}

/** The meeting's address: `baseUrl` (cases.meetingBaseUrl) and a conference name nobody can guess. */
export function meetingUrl(baseUrl: string, conferenceId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${conferenceName(conferenceId)}`;
}

const conferenceName = (conferenceId: string) => `carehub-${conferenceId}`;

const clockFormats = new Map<string, Intl.DateTimeFormat>();
const clockTime = (at: Date, timeZone: string) => {
  let format = clockFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    clockFormats.set(timeZone, format);
  }
  return format.format(at);
};
const localDay = (at: Date, timeZone: string) => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);

/** "Thu 2 Apr, 15:00–16:00 (Europe/Berlin time)": the end as a time on the same local day, else in full. */
export function meetingTime(start: Date | undefined, end: Date | undefined, timeZone: string): string {
  if (!start) return BOT_MESSAGES.meeting.notScheduled;
  const to = end ? (localDay(start, timeZone) === localDay(end, timeZone) ? clockTime(end, timeZone) : formatLocalTime(end, timeZone)) : undefined;
  return BOT_MESSAGES.meeting.when(formatLocalTime(start, timeZone), to, timeZone);
}

/**
 * The invitation to a meeting (or, `updated`, what changed of it) as an encrypted message:
 * title, time, link, note, and how to answer. It carries `org.carehub.appointment`, so a reply or
 * reaction to it is read as an answer. A change is a reply to the first invitation.
 */
export function renderMeetingInvitation(view: MeetingView, options: { updated?: { inReplyTo: string } } = {}) {
  const { meeting } = BOT_MESSAGES;
  const heading = `${options.updated ? meeting.heading.updated : meeting.heading.original}: ${view.title}`;
  const fields: Array<[string, string]> = [
    [meeting.fields.when, meetingTime(view.start, view.end, view.timeZone)],
    [meeting.fields.join, view.url],
    ...(view.note ? [[meeting.fields.note, view.note] as [string, string]] : []),
  ];
  const html = (label: string, value: string) => (label === meeting.fields.join ? `<a href="${escapeHtml(value)}">${escapeHtml(value)}</a>` : escapeHtml(value).replace(/\n/g, '<br>'));
  return {
    msgtype: 'm.text' as const,
    body: [heading, ...fields.map(([label, value]) => `${label}: ${value}`), meeting.answerHint].join('\n'),
    format: 'org.matrix.custom.html' as const,
    formatted_body:
      `<b>${escapeHtml(heading)}</b><br>` + fields.map(([label, value]) => `<b>${escapeHtml(label)}:</b> ${html(label, value)}`).join('<br>') + `<br><i>${escapeHtml(meeting.answerHint)}</i>`,
    [CAREHUB_APPOINTMENT_KEY]: view.appointment,
    ...(options.updated ? { 'm.relates_to': { 'm.in_reply_to': { event_id: options.updated.inReplyTo } } } : {}),
  };
}

/** The meeting is cancelled: said as a reply to its invitation (when there was one). */
export function renderMeetingCancellation(view: Pick<MeetingView, 'title' | 'start' | 'timeZone'>, inReplyTo: string | undefined) {
  return {
    msgtype: 'm.notice' as const,
    body: BOT_MESSAGES.meeting.cancelled(view.title, view.start ? formatLocalTime(view.start, view.timeZone) : undefined),
    ...(inReplyTo ? { 'm.relates_to': { 'm.in_reply_to': { event_id: inReplyTo } } } : {}),
  };
}

/**
 * The meeting as a room widget, in the shape Element gives its Jitsi widgets, for the room's
 * `im.vector.modular.widgets` state (keyed by `conferenceId`). State is not encrypted: it holds
 * the link and a fixed name, never the title, the time or anyone's name.
 */
export function meetingWidget(baseUrl: string, conferenceId: string, creatorUserId: string) {
  const url = meetingUrl(baseUrl, conferenceId);
  return {
    stateKey: conferenceId,
    content: {
      type: 'jitsi',
      url,
      name: BOT_MESSAGES.meeting.widgetName,
      id: conferenceId,
      creatorUserId,
      data: { domain: new URL(url).host, conferenceId: conferenceName(conferenceId), isAudioOnly: false },
    },
  };
}
