import { CAREHUB_MESSAGE_KEY } from './room-state.js';

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
}

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
  const hint = 'Reply in this room to answer the referral.';
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
