import { CAREHUB_MESSAGE_KEY, STATUS_REQUEST_KEY } from './room-state.js';

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

export interface ReferralMessageContent {
  msgtype: 'm.text';
  body: string;
  format: 'org.matrix.custom.html';
  formatted_body: string;
  [CAREHUB_MESSAGE_KEY]: { task: string; serviceRequest: string };
  /**
   * gematik MSC4300: asks the recipient's client for a processing status. The hub answers the
   * same way (`de.gematik.response.status`) to every reply it has parsed.
   */
  [STATUS_REQUEST_KEY]?: { from_device: string; lifetime: number };
}

/** How to answer, in words and in the shapes parseAnswerEvent understands. */
export const ANSWER_HINT = 'Answer in this room: ✅ or "accept" to accept, ❌ or "decline <reason>" to decline, "done" when completed, "help" for more.';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * Renders a referral as a Matrix message any client shows well: a plain body for simple
 * clients and notifications, HTML for Element and the like.
 */
export function renderReferralMessage(view: ReferralView): ReferralMessageContent {
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
    msgtype: 'm.text',
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
 * An edit of the referral message (Matrix m.replace) showing the ServiceRequest's new version.
 * Clients show the new content in place of the old, marked as edited.
 */
export function renderReferralEdit(originalEventId: string, current: ReferralMessageContent) {
  const { [STATUS_REQUEST_KEY]: _request, ...newContent } = current;
  return {
    msgtype: 'm.text' as const,
    body: `* ${current.body}`,
    format: 'org.matrix.custom.html' as const,
    formatted_body: `* ${current.formatted_body}`,
    'm.new_content': { ...newContent, body: current.body.replace(/^New referral:/, 'Referral (updated):'), formatted_body: current.formatted_body.replace('<h4>New referral:', '<h4>Referral (updated):') },
    'm.relates_to': { rel_type: 'm.replace' as const, event_id: originalEventId },
    [CAREHUB_MESSAGE_KEY]: current[CAREHUB_MESSAGE_KEY],
  };
}
