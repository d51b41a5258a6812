import type { FileMessageContent } from './matrix-media.js';
import { CAREHUB_MESSAGE_KEY, FHIR_RESOURCE_KEY, FHIR_STRUCTURE_KEY, inThread, STATUS_REQUEST_KEY } from './room-state.js';
import { BOT_MESSAGES } from './bot-messages.js';

/** What a GP needs to see of a referral, already resolved from FHIR by the hub. */
export interface ReferralView {
  taskId: string;
  serviceRequestId: string;
  patient: { name: string; birthDate?: string | undefined; identifier?: string | undefined };
  /** What is requested (ServiceRequest.code). */
  request: string;
  reason?: string | undefined;
  priority: string;
  requester: string;
  dueDate?: string | undefined;
  note?: string | undefined;
}

/** gematik MSC4302 metadata: which FHIR structure a message carries. */
export interface FhirStructure {
  url: string;
  version: string;
  type: string;
  fhir_version: string;
}

/** The referral as one Matrix text event: readable text, with its FHIR inline when it fits. */
export interface ReferralMessageContent {
  msgtype: 'm.text';
  body: string;
  format: 'org.matrix.custom.html';
  formatted_body: string;
  /** Which referral; `fhir: 'thread'` when the FHIR was too large to ride inline and follows as a file in the thread. */
  [CAREHUB_MESSAGE_KEY]: { task: string; serviceRequest: string; fhir?: 'thread' };
  [FHIR_STRUCTURE_KEY]: FhirStructure;
  [FHIR_RESOURCE_KEY]?: object;
  /**
   * gematik MSC4300: asks the recipient's client for a processing status. The hub answers the
   * same way (`de.gematik.response.status`) to every reply it has parsed.
   */
  [STATUS_REQUEST_KEY]?: { from_device: string; lifetime: number };
}

/**
 * How much plaintext content a referral event may carry with its FHIR inline. Synapse refuses
 * events over 65,536 bytes, and the Megolm ciphertext is the plaintext in base64 (4/3) inside an
 * envelope: 40 KiB of plaintext stays well below (docs/decisions/0001).
 */
export const INLINE_CONTENT_LIMIT_BYTES = 40 * 1024;

/** How to answer, in words and in the shapes parseAnswerEvent understands. */
export const ANSWER_HINT = BOT_MESSAGES.answerHint;

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The words that tell referrals apart in a thread list or a notification: patient and request. */
export function referralLabel(view: Pick<ReferralView, 'patient' | 'request'>): string {
  return `${view.patient.name} – ${view.request}`;
}

/** Which version of a referral the text is: the first, an edit, or a re-send to someone who could not read it. */
export type Heading = keyof typeof BOT_MESSAGES.referral.heading;

/**
 * How long one field of the text may be: a long note or reason is cut short (its whole text is
 * in the FHIR), so the text alone can never make the event larger than a homeserver takes.
 */
export const FIELD_TEXT_LIMIT = 600;

const shortened = (value: string) => (value.length <= FIELD_TEXT_LIMIT ? value : BOT_MESSAGES.referral.shortened(value.slice(0, FIELD_TEXT_LIMIT)));

function renderText(view: ReferralView, heading: Heading, fhirInThread: boolean) {
  const patient = [view.patient.name, view.patient.birthDate && BOT_MESSAGES.referral.born(view.patient.birthDate), view.patient.identifier]
    .filter(Boolean)
    .join(', ');
  const lines: Array<[string, string | undefined]> = [
    [BOT_MESSAGES.referral.fields.patient, patient],
    [BOT_MESSAGES.referral.fields.request, view.request],
    [BOT_MESSAGES.referral.fields.reason, view.reason],
    [BOT_MESSAGES.referral.fields.priority, view.priority],
    [BOT_MESSAGES.referral.fields.from, view.requester],
    [BOT_MESSAGES.referral.fields.due, view.dueDate],
    [BOT_MESSAGES.referral.fields.note, view.note],
  ];
  const present = lines.filter((l): l is [string, string] => Boolean(l[1])).map(([k, v]): [string, string] => [k, shortened(v)]);
  // The first line is what a thread list, a notification or a one-line client shows.
  const title = shortened(`${BOT_MESSAGES.referral.heading[heading]}: ${referralLabel(view)}`);
  const after = fhirInThread ? [BOT_MESSAGES.referral.fhirInThread, ANSWER_HINT] : [ANSWER_HINT];
  return {
    body: [title, ...present.map(([k, v]) => `${k}: ${v}`), '', ...after].join('\n'),
    format: 'org.matrix.custom.html' as const,
    formatted_body:
      `<h4>${escapeHtml(title)}</h4><ul>` +
      present.map(([k, v]) => `<li><b>${escapeHtml(k)}:</b> ${escapeHtml(v)}</li>`).join('') +
      `</ul>` +
      after.map((line) => `<p><i>${escapeHtml(line)}</i></p>`).join(''),
  };
}

/**
 * The referral as one m.text event that every client shows: plain `body` for simple clients and
 * notifications, HTML for Element and the like, and the FHIR Bundle inline in the same
 * (encrypted) content, as gematik's TI-Messenger carries structured FHIR (MSC4302). When the
 * whole would exceed INLINE_CONTENT_LIMIT_BYTES the FHIR is left out (`fhir: 'thread'`) and the
 * caller sends it as a file in the referral's thread.
 */
export function renderReferralMessage(view: ReferralView, bundle: object, structure: FhirStructure, heading: Heading = 'original'): ReferralMessageContent {
  const ids = { task: `Task/${view.taskId}`, serviceRequest: `ServiceRequest/${view.serviceRequestId}` };
  const inline: ReferralMessageContent = {
    msgtype: 'm.text',
    ...renderText(view, heading, false),
    [CAREHUB_MESSAGE_KEY]: ids,
    [FHIR_STRUCTURE_KEY]: structure,
    [FHIR_RESOURCE_KEY]: bundle,
  };
  if (Buffer.byteLength(JSON.stringify(inline)) <= INLINE_CONTENT_LIMIT_BYTES) return inline;
  return { msgtype: 'm.text', ...renderText(view, heading, true), [CAREHUB_MESSAGE_KEY]: { ...ids, fhir: 'thread' }, [FHIR_STRUCTURE_KEY]: structure };
}

/** Whether a rendered referral left its FHIR out, to follow as a file in its thread. */
export const fhirGoesInThread = (content: ReferralMessageContent) => content[CAREHUB_MESSAGE_KEY].fhir === 'thread';

/** The FHIR file of a referral too large to carry it inline, in the referral's thread. */
export function renderReferralFhirFile(view: ReferralView, file: FileMessageContent, structure: FhirStructure, threadRoot: string) {
  return {
    ...file,
    [CAREHUB_MESSAGE_KEY]: { task: `Task/${view.taskId}`, serviceRequest: `ServiceRequest/${view.serviceRequestId}` },
    [FHIR_STRUCTURE_KEY]: structure,
    ...inThread(threadRoot),
  };
}

/**
 * An edit of the referral (Matrix m.replace) showing the ServiceRequest's new version: the new
 * text and the new FHIR together in `m.new_content`. The edit's own content is only the
 * fallback text (a star, as the spec suggests), so the FHIR is not carried twice.
 */
export function renderReferralEdit(originalEventId: string, current: ReferralMessageContent) {
  const { [STATUS_REQUEST_KEY]: _request, ...newContent } = current;
  return {
    msgtype: 'm.text' as const,
    body: `* ${current.body}`,
    format: current.format,
    formatted_body: `* ${current.formatted_body}`,
    'm.new_content': newContent,
    'm.relates_to': { rel_type: 'm.replace' as const, event_id: originalEventId },
  };
}

/**
 * The referral again, for a recipient whose devices could not read it when it was sent: in the
 * referral's thread, so the room shows no second referral.
 */
export function renderReferralResend(originalEventId: string, current: ReferralMessageContent) {
  const { [STATUS_REQUEST_KEY]: _request, ...content } = current;
  return { ...content, ...inThread(originalEventId) };
}
