import type { FileMessageContent } from './matrix-media.js';
import { CAREHUB_MESSAGE_KEY, FHIR_STRUCTURE_KEY, STATUS_REQUEST_KEY } from './room-state.js';

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

/** The readable part of a referral: plain text and HTML. */
export interface ReferralText {
  body: string;
  format: 'org.matrix.custom.html';
  formatted_body: string;
  [CAREHUB_MESSAGE_KEY]: { task: string; serviceRequest: string };
}

/** gematik MSC4302 metadata: which FHIR structure the message's file holds. */
export interface FhirStructure {
  url: string;
  version: string;
  type: string;
  fhir_version: string;
}

/**
 * A referral as one Matrix event: an m.file whose encrypted file is the referral's FHIR and
 * whose caption (spec v1.10: a `body` other than the `filename`) is the readable text.
 */
export interface ReferralMessageContent extends Omit<FileMessageContent, 'body'>, ReferralText {
  [FHIR_STRUCTURE_KEY]: FhirStructure;
  /**
   * gematik MSC4300: asks the recipient's client for a processing status. The hub answers the
   * same way (`de.gematik.response.status`) to every reply it has parsed.
   */
  [STATUS_REQUEST_KEY]?: { from_device: string; lifetime: number };
}

/** How to answer, in words and in the shapes parseAnswerEvent understands. */
export const ANSWER_HINT = 'Answer in this referral’s thread (or react to it): ✅ or "accept" to accept, ❌ or "decline <reason>" to decline, "done" when completed, "help" for more.';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * Renders a referral's text as any client shows it well: a plain body for simple clients and
 * notifications, HTML for Element and the like.
 */
export function renderReferralText(view: ReferralView): ReferralText {
  const patient = [view.patient.name, view.patient.birthDate && `born ${view.patient.birthDate}`, view.patient.identifier]
    .filter(Boolean)
    .join(', ');
  const lines: Array<[string, string | undefined]> = [
    ['Patient', patient],
    ['Request', view.request],
    ['Reason', view.reason],
    ['Priority', view.priority],
    ['From', view.requester],
    ['Due', view.dueDate],
    ['Note', view.note],
  ];
  const present = lines.filter((l): l is [string, string] => Boolean(l[1]));
  const title = `New referral: ${view.request}`;
  const hint = ANSWER_HINT;
  return {
    body: [title, ...present.map(([k, v]) => `${k}: ${v}`), '', hint].join('\n'),
    format: 'org.matrix.custom.html',
    formatted_body:
      `<h4>${escapeHtml(title)}</h4><ul>` +
      present.map(([k, v]) => `<li><b>${escapeHtml(k)}:</b> ${escapeHtml(v)}</li>`).join('') +
      `</ul><p><i>${escapeHtml(hint)}</i></p>`,
    [CAREHUB_MESSAGE_KEY]: { task: `Task/${view.taskId}`, serviceRequest: `ServiceRequest/${view.serviceRequestId}` },
  };
}

/**
 * The referral as one event: its FHIR file (uploaded encrypted, `file`) with the readable text
 * as the file's caption. One event, not a message and a file beside it: the GP's client shows
 * the text with the file attached, the text and its FHIR can never arrive apart, and the
 * homeserver handles one event per referral instead of two.
 */
export function renderReferralMessage(view: ReferralView, file: FileMessageContent, structure: FhirStructure): ReferralMessageContent {
  return { ...file, ...renderReferralText(view), [FHIR_STRUCTURE_KEY]: structure };
}

/**
 * An edit of the referral (Matrix m.replace) showing the ServiceRequest's new version: new text
 * and a new FHIR file. Clients show the new content in place of the old, marked as edited.
 */
export function renderReferralEdit(originalEventId: string, current: ReferralMessageContent) {
  const { [STATUS_REQUEST_KEY]: _request, ...newContent } = current;
  return {
    ...newContent,
    body: `* ${current.body}`,
    formatted_body: `* ${current.formatted_body}`,
    'm.new_content': { ...newContent, body: current.body.replace(/^New referral:/, 'Referral (updated):'), formatted_body: current.formatted_body.replace('<h4>New referral:', '<h4>Referral (updated):') },
    'm.relates_to': { rel_type: 'm.replace' as const, event_id: originalEventId },
  };
}
