import type { AnswerAction } from './referral-answer.js';

/**
 * Every text the bot says in a room, in one place, so that a translation is one file (the
 * languages issue) and a wording is changed once. Texts shared with every device (the room's
 * intro, the unreadable notice) hold no patient data; the others go out encrypted.
 */


/** A Task status as the refusal names it (FHIR R4 task-status codes). */
type StatusWord = string;

const ACTION_WORDS: Record<AnswerAction, string> = { accept: 'accepted', decline: 'declined', start: 'started', complete: 'completed' };

export const BOT_MESSAGES = {
  /** How to answer: after each referral, and the answer to "help". */
  answerHint: 'Answer in this referral’s thread (or react to it): ✅ or "accept" to accept, ❌ or "decline <reason>" to decline, "done" when completed, "help" for more.',

  /** The referral's text (referral-message.ts). */
  referral: {
    heading: { original: 'Referral', updated: 'Referral (updated)', resent: 'Referral (re-sent)' },
    fields: { patient: 'Patient', request: 'Request', reason: 'Reason', priority: 'Priority', from: 'From', due: 'Due', note: 'Note' },
    born: (birthDate: string) => `born ${birthDate}`,
    shortened: (start: string) => `${start}… (shortened: the whole text is in the referral's FHIR)`,
    fhirInThread: 'The referral as FHIR follows in this thread as a file.',
    /** Names a referral in notices: "Referral: Ole Nielsen – Home-care assessment". */
    named: (label: string) => `Referral: ${label}`,
  },

  /** A recipient's answer, confirmed. */
  confirmation: {
    accept: (who: string) => `✅ Accepted by ${who}. The requester has been told.`,
    decline: (who: string, reason?: string) => `❌ Declined by ${who}${reason ? `: ${reason}` : ''}. The requester has been told.`,
    start: (who: string) => `▶️ In progress with ${who}.`,
    complete: (who: string, note?: string) => `✔️ Completed by ${who}${note ? `: ${note}` : ''}. The requester has been told.`,
  } satisfies Record<AnswerAction, (who: string, text?: string) => string>,

  /** Why an answer is refused, in words a GP understands. */
  refusal: {
    finished: (status: StatusWord, action: AnswerAction) => `This referral is already ${status === 'rejected' ? 'declined' : status}; it cannot be ${ACTION_WORDS[action]} now.`,
    acceptFirst: (action: AnswerAction) => `Accept the referral before marking it ${ACTION_WORDS[action]}.`,
    already: (status: StatusWord, action: AnswerAction) => `This referral is already ${status}; it cannot be ${ACTION_WORDS[action]} now.`,
    /** An answer refused, as the bot says it: the reason after a warning sign. */
    answer: (why: string) => `⚠️ ${why}`,
    onlyRecipientsAnswer: "⚠️ Only the referral's recipients can answer it.",
    onlyRecipientsAdd: "⚠️ Only the referral's recipients can add to it.",
  },

  whichReferral: '❓ Which referral is this about? This room holds several: please answer in the thread of the one you mean (or reply to its message).',

  document: {
    received: (filename: string, documentReferenceId: string) => `📄 Received ${filename}: stored as DocumentReference/${documentReferenceId} and passed on to the requester.`,
    refused: (filename: string, reason: string) => `⚠️ ${filename} was not accepted: ${reason}.`,
    notMatchingHash: 'the file did not match its hash',
  },

  cancelled: (reason?: string) => `🚫 This referral was cancelled by the requester${reason ? `: ${reason}` : '.'} No further action is needed.`,

  /** The room's pinned first message: what the room is and how to answer. */
  roomIntro: (title?: string) =>
    [
      `This room carries referrals${title ? ` from ${title}` : ''}, sent through CareHub.`,
      'Each referral is a message with its own thread. Answer in the thread: ✅ or "accept" to accept, ❌ or "decline <reason>" to decline, "done" when completed, "help" for more.',
      'Referrals can be read only on verified logins: if one shows as unreadable, verify this login (set up cross-signing, or verify it from a login you already use). CareHub then sends it again.',
    ].join('\n'),

  /** To recipients none of whose logins can read a referral. */
  unreadable: (who: string) =>
    `🔒 A new referral is waiting here for ${who}, but none of your logins can read it yet: CareHub sends referrals only to verified logins. ` +
    'Verify this login (set up cross-signing when your app asks, or verify it from a login you already use); CareHub then sends the referral again in its thread.',
} as const;
