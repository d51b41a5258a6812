import { randomUUID } from 'node:crypto';
import type { Bundle, CareTeam, Communication, DocumentReference, Reference } from 'fhir/r4.js';
import { escapeHtml, type HistoryMessage } from '@carehub/matrix-bridge';

/** A room message as the transcript tells it: who said it (their role, and their name), and any document it carried. */
export interface TranscriptLine {
  message: HistoryMessage;
  /** The member's name as the directory knows it; "CareHub" for the bot. */
  who: string;
  /** The member's PractitionerRole, if they have one. */
  role: Reference | undefined;
  /** The DocumentReference a posted file was stored as. */
  document?: DocumentReference & { id: string };
}

const matrixEventIdentifier = (roomId: string, eventId: string) => ({ system: 'urn:ietf:rfc:3986', value: `matrix:roomid/${roomId.slice(1)}/e/${eventId.slice(1)}` });

/**
 * The case's transcript as FHIR: a collection Bundle with a Communication for every message
 * (sender, time, text; about and to the CareTeam) and the DocumentReference of every document
 * posted, in the order they were said. `baseUrl` makes the stored documents' fullUrls absolute.
 */
export function transcriptBundle(careTeam: CareTeam & { id: string }, roomId: string, lines: TranscriptLine[], baseUrl: string, at: Date): Bundle {
  const entries: NonNullable<Bundle['entry']> = [];
  for (const { message, role, document } of lines) {
    if (document) {
      entries.push({ fullUrl: `${baseUrl}/fhir/DocumentReference/${document.id}`, resource: document });
      continue;
    }
    const communication: Communication = {
      resourceType: 'Communication',
      identifier: [matrixEventIdentifier(roomId, message.eventId)],
      status: 'completed',
      ...(careTeam.subject ? { subject: careTeam.subject } : {}),
      about: [{ reference: `CareTeam/${careTeam.id}` }],
      recipient: [{ reference: `CareTeam/${careTeam.id}` }],
      sent: message.at.toISOString(),
      ...(role ? { sender: role } : {}),
      payload: [{ contentString: message.undecryptable ? '(a message CareHub could not decrypt)' : message.body }],
    };
    entries.push({ fullUrl: `urn:uuid:${randomUUID()}`, resource: communication });
  }
  return { resourceType: 'Bundle', type: 'collection', timestamp: at.toISOString(), identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${randomUUID()}` }, entry: entries };
}

const timeOf = (at: Date, timeZone: string) =>
  new Intl.DateTimeFormat('en-GB', { timeZone, dateStyle: 'medium', timeStyle: 'short' }).format(at);

/**
 * The transcript as a readable document (HTML): the case, who it is about, and every message
 * with its time and sender, in the case's time zone. Stored encrypted like every document.
 */
export function transcriptHtml(title: string, about: string, lines: TranscriptLine[], timeZone: string, at: Date): string {
  const rows = lines
    .map(({ message, who, document }) => {
      const text = document ? `📄 ${document.description ?? message.body} (DocumentReference/${document.id})` : message.undecryptable ? '(a message CareHub could not decrypt)' : message.body;
      return `<tr><td>${escapeHtml(timeOf(message.at, timeZone))}</td><td>${escapeHtml(who)}</td><td>${escapeHtml(text).replace(/\n/g, '<br>')}</td></tr>`;
    })
    .join('\n');
  return [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td{border-top:1px solid #ccc;padding:.3em .6em;vertical-align:top}</style></head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${escapeHtml(about)}</p>`,
    `<p>Exported by CareHub on ${escapeHtml(timeOf(at, timeZone))} (${escapeHtml(timeZone)}).</p>`,
    '<table><thead><tr><th>When</th><th>Who</th><th>Message</th></tr></thead><tbody>',
    rows,
    '</tbody></table></body></html>',
  ].join('\n');
}
