import type { EncryptedFile } from './encrypted-attachment.js';

/**
 * What a recipient's event in a referral room means. GPs answer from any Matrix client, so the
 * vocabulary is small and forgiving: a word or slash command at the start of a message (or a
 * reply), or a ✅/❌ reaction. Anything else is conversation, kept as a FHIR Communication.
 */
export type AnswerAction = 'accept' | 'decline' | 'start' | 'complete';

export type ReferralAnswer =
  | { kind: 'action'; action: AnswerAction; /** reason (decline) or note (complete), if given */ text?: string }
  | { kind: 'help' }
  | { kind: 'message'; text: string }
  /** A file (m.file, m.image) posted into the room: a document for the referral's record. */
  | { kind: 'document'; file: EncryptedFile; filename: string; mimetype: string | undefined; size: number | undefined }
  /** Edits, redactions, notices and other events that are not answers. */
  | { kind: 'ignored' };

/** The referral room's commands: each word (or emoji) a recipient may answer with, and what it means. */
export const ANSWER_WORDS: Readonly<Record<string, AnswerAction | 'help'>> = {
  accept: 'accept',
  accepted: 'accept',
  '✅': 'accept',
  '✔': 'accept',
  decline: 'decline',
  declined: 'decline',
  reject: 'decline',
  rejected: 'decline',
  '❌': 'decline',
  start: 'start',
  started: 'start',
  complete: 'complete',
  completed: 'complete',
  done: 'complete',
  help: 'help',
  '?': 'help',
};

/** Emoji arrive with or without the variation selector (U+FE0F) depending on the client. */
const normalise = (s: string) => s.replace(/\uFE0F/g, '').trim();

/** A reply's body starts with the quoted original ("> <@bot> …" lines and a blank line); drop it. */
function withoutReplyFallback(body: string): string {
  const lines = body.split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith('>')) i++;
  return lines.slice(i).join('\n').trim();
}

export function parseAnswerText(body: string): ReferralAnswer {
  const text = withoutReplyFallback(body);
  // "/accept", "!decline: no capacity", "❌ no capacity", "Done - follow-up booked"
  const match = /^[/!]?\s*([^\s:.,;!-]+|[✅✔❌]\uFE0F?)\s*[:.,;!-]?\s*([\s\S]*)$/u.exec(text);
  const word = match ? normalise(match[1]!).toLowerCase() : '';
  const meaning = ANSWER_WORDS[word] ?? (word.length > 1 && ANSWER_WORDS[normalise([...word][0]!)]) ?? undefined;
  if (!match || !meaning) return text ? { kind: 'message', text } : { kind: 'ignored' };
  if (meaning === 'help') return { kind: 'help' };
  // "✅Thanks" (no space) keeps what follows the emoji as the text.
  const rest = (ANSWER_WORDS[word] ? match[2]! : `${[...match[1]!].slice(1).join('')} ${match[2]!}`).trim();
  return rest ? { kind: 'action', action: meaning, text: rest } : { kind: 'action', action: meaning };
}

/** Reads a decrypted room event's type and content. */
export function parseAnswerEvent(type: string, content: Record<string, unknown>): ReferralAnswer {
  const relation = content['m.relates_to'] as { rel_type?: string; key?: string } | undefined;
  if (type === 'm.reaction') {
    const meaning = ANSWER_WORDS[normalise(relation?.key ?? '')];
    return meaning === 'accept' || meaning === 'decline' ? { kind: 'action', action: meaning } : { kind: 'ignored' };
  }
  if (type !== 'm.room.message') return { kind: 'ignored' };
  // An edit repeats a message already answered; m.notice is what bots send.
  if (relation?.rel_type === 'm.replace') return { kind: 'ignored' };
  if ((content['msgtype'] === 'm.file' || content['msgtype'] === 'm.image') && typeof content['file'] === 'object' && content['file'] !== null) {
    const info = (content['info'] ?? {}) as { mimetype?: string; size?: number };
    const filename = typeof content['filename'] === 'string' ? content['filename'] : typeof content['body'] === 'string' ? content['body'] : 'document';
    return { kind: 'document', file: content['file'] as EncryptedFile, filename, mimetype: info.mimetype, size: info.size };
  }
  if (content['msgtype'] !== 'm.text') return { kind: 'ignored' };
  const body = content['body'];
  return typeof body === 'string' ? parseAnswerText(body) : { kind: 'ignored' };
}
