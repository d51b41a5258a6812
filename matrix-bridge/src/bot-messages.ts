import type { CaseCommand } from './case-commands.js';
import type { AnswerAction } from './referral-answer.js';

/**
 * Every text the bot says in a room, in one place, so that a translation is one file (the
 * languages issue) and a wording is changed once. Texts shared with every device (the room's
 * intro, the unreadable notice) hold no patient data; the others go out encrypted.
 */


/** A Task status as the refusal names it (FHIR R4 task-status codes). */
type StatusWord = string;

const ACTION_WORDS: Record<AnswerAction, string> = { accept: 'accepted', decline: 'declined', start: 'started', complete: 'completed' };

/** A case-room command a moderator gives (all but help and the refusals), as a refusal names it. */
type ModeratorCommand = Exclude<CaseCommand['kind'], 'help' | 'refused-syntax'>;

const MODERATOR_DOINGS: Record<ModeratorCommand, string> = {
  mute: 'mute members',
  unmute: 'unmute members',
  'mute-all': 'mute the room',
  'unmute-all': 'unmute the room',
  lock: 'lock the room',
  unlock: 'unlock the room',
  remove: 'remove members',
  ban: 'ban members',
  hours: 'set the open hours',
  close: 'close the case',
  guest: 'invite guests',
  'guest-end': "end a guest's access",
  guests: 'list the guests',
  refer: 'send referrals',
};

/** The commands of a case room, as "help" lists them. */
const CASE_HELP = [
  'Commands in this case room (for its moderators; start them with ! or "case"):',
  '• !mute @name:server [30m, 2h, 1d] – mute a member, until unmuted or for a while (up to 7 days)',
  '• !unmute @name:server',
  '• !mute all / !unmute all – only staff and moderators can write meanwhile',
  '• !lock / !unlock – only moderators can write meanwhile',
  '• !remove @name:server <reason> – remove a member',
  '• !ban @name:server <reason> – remove a member and keep them out',
  '• !hours tue,thu 15:00-16:00 – members can write only at these hours (moderators always); !hours off – at all times',
  '• !guest <name>, <relationship>: <how you identified them> – a one-time link for a relative (or "self" for the person), sent to you in your direct chat with me',
  '• !guests – the guests and their access; !guest end <name> – end a guest\'s link or access now',
  '• !refer @name:server: <what you ask for> – a referral to a member of the case (any member from the network may send one); its status is told here',
  '• !case close – close the case',
  '• !help – this list',
  'Instead of @name:server you can mention the member (start typing their name and pick them). ' +
    'The reason for a removal is shown to the member and is not end-to-end encrypted: give no patient details in it.',
].join('\n');

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

  /**
   * A case room: a moderated room a care counsellor runs with the case's professionals. Texts
   * marked "every device" hold no patient data and no one's name, so the hub may send them to
   * logins not yet verified (to tell them what the room is doing). The others name a member, or
   * carry what a counsellor typed (a removal's reason, the summary): members' verified logins
   * only. No text repeats a command's free text back, except those reasons.
   */
  case: {
    /** Every device. The room's pinned first message. */
    intro:
      'This is a case room, run through CareHub by the case\'s care counsellor. Its messages are end-to-end encrypted and can be read only on verified logins. ' +
      'The moderators may mute members, lock the room or keep it to open hours; "!help" lists their commands.',
    /** Every device. The answer to "help". */
    help: CASE_HELP,
    /** Every device (the word is letters only, as the command reader takes it). A `!word` the bot does not know. */
    unknownCommand: (word: string) => `❓ "!${word}" is not a command here.\n${CASE_HELP}`,

    /** Why a command is refused, in words a counsellor understands. */
    refusal: {
      /** Every device. */
      onlyModerators: (command: ModeratorCommand) => `⚠️ Only the case's moderators can ${MODERATOR_DOINGS[command]}.`,
      /** Members only: names a member. */
      cannotMuteModerator: (who: string) => `⚠️ ${who} is a moderator of this case, and moderators cannot be muted.`,
      /** Members only: names who was meant. */
      notAMember: (who: string) => `⚠️ ${who} is not a member of this case.`,
      /** Every device (the whys below are fixed texts). A command the bot could not read, and how to write it. */
      syntax: (why: string) => `⚠️ ${why}`,
    },

    /** Why a command could not be read: fixed texts that never repeat what was typed. Every device. */
    syntax: {
      whom: (command: 'mute' | 'unmute' | 'remove' | 'ban') => `Say whom, by mentioning them or as @name:server: "!${command} @name:server${command === 'remove' || command === 'ban' ? ' <reason>' : ''}".`,
      duration: 'Give the time as 30m, 2h, 1d, 1h30m or "for 30 minutes"; leave it out to mute until unmuted.',
      tooLong: 'A member can be muted for at most 7 days at a time; leave out the time to mute them until unmuted.',
      reason: (command: 'remove' | 'ban') =>
        `Say why after the name: "!${command} @name:server left the care team". The member sees the reason, and it is not end-to-end encrypted: give no patient details.`,
      muteAllForTime: 'Muting everyone has no time limit: "!mute all", then "!unmute all" when done.',
      hoursExample: 'Write open hours as days and times, e.g. "!hours tue,thu 15:00-16:00" or "!hours mon-fri 9:00-12:00"; "!hours off" opens the room at all times.',
      hoursDays: 'Say which days, e.g. "tue", "tue,thu" or "mon-fri", before the times: "!hours tue,thu 15:00-16:00".',
      hoursTimes: 'Times run from 00:00 to 24:00, e.g. "!hours tue 15:00-16:00".',
      hoursEndBeforeStart: 'The closing time must come after the opening time on the same day: open hours cannot run past midnight (set the next day as well).',
      hoursAlwaysOpen: 'Those hours never close: "!hours off" opens the room at all times.',
      guestIdentified: 'Say how you made sure who the guest is, after a colon: "!guest Anna Nielsen, daughter: ID card seen in person" (up to 200 characters).',
      guestName: 'Give the guest\'s name, then their relationship to the person: "!guest Anna Nielsen, daughter: ID card seen in person" (up to 100 characters each).',
      guestEnd: 'Say whose access ends, by name or as @guest-…:server: "!guest end Anna Nielsen".',
      referWhom: 'Say whom you refer to, by mentioning them or as @name:server: "!refer @name:server: home visit this week".',
      referWhat: 'Say what you ask for after the name: "!refer @name:server: home visit this week".',
      referTooLong: 'A referral in the room is at most 1000 characters: send a longer letter as a document.',
    },

    /** Members only: names a member. `until` as formatLocalTime writes it. */
    muted: (who: string, until?: string) => `🔇 ${who} is muted${until ? ` until ${until}` : ' until a moderator unmutes them'}.`,
    /** Members only: names a member. */
    unmuted: (who: string) => `🔈 ${who} can write again.`,
    /** Every device. */
    mutedAll: '🔇 The room is muted: only staff and moderators can write until a moderator unmutes it.',
    /** Every device. */
    unmutedAll: '🔈 The room is unmuted: everyone can write again.',
    /** Every device. */
    locked: '🔒 The room is locked: only moderators can write until a moderator unlocks it.',
    /** Every device. */
    unlocked: '🔓 The room is unlocked: members can write again.',
    /** Members only: names a member and carries the counsellor's reason. */
    removed: (who: string, reason: string) => `🚪 ${who} was removed from the case: ${reason}`,
    /** Members only: names a member and carries the counsellor's reason. */
    banned: (who: string, reason: string) => `⛔ ${who} was removed from the case and cannot rejoin: ${reason}`,
    /** Every device. `rule` as formatOpenHours writes it; `timeZone` the case's (IANA name). */
    openHoursSet: (rule: string, timeZone: string) => `🕒 Open hours set: ${rule} (${timeZone} time). Outside them only moderators can write.`,
    /** Every device. */
    openHoursOff: '🕒 Open hours removed: the room is open at all times.',
    /** Every device. `rule` as formatOpenHours writes it. */
    openedByHours: (rule: string) => `🕒 The room is open (open hours ${rule}).`,
    /** Every device. `nextOpening` as formatLocalTime writes it. */
    closedByHours: (nextOpening: string) => `🌙 The room is closed until ${nextOpening}: only moderators can write meanwhile.`,
    /** Members only: names a member. */
    memberLeft: (who: string) => `👋 ${who} left the case.`,
    /** Members only: names two members, and may carry the moderator's reason. */
    removedByModerator: (who: string, by: string, reason?: string) => `🚪 ${who} was removed from the case by ${by}${reason ? `: ${reason}` : '.'}`,
    /** Every device: a count only, never who or what the consent covers. */
    consentRevoked: (count: number) =>
      `🔐 The person's consent changed: ${count === 1 ? 'one member it no longer covers was' : `${count} members it no longer covers were`} removed from the case.`,
    /** Every device. */
    closed: '📁 This case is closed: no more messages can be sent here.',

    /** Members only: names the recipient. A referral sent from the case room. */
    referred: (to: string) => `📨 Referral sent to ${to}. I will tell you here when its status changes.`,
    /** Every device. */
    referNotFromDirectory: '⚠️ Only members of the network listed in its directory can send referrals (guests cannot).',
    /** Members only: names who was meant. */
    referNoRole: (who: string) => `⚠️ ${who} is not listed in the network's directory, so no referral can go to them.`,
    /** Every device: the hub's reason (a missing Consent, say). */
    referRefused: (why: string) => `⚠️ The referral could not be sent: ${why}`,

    /** A case's guests: relatives, or the person themself, invited by a one-time link. */
    guest: {
      /** Members only: names the guest. `until` as formatLocalTime writes it. */
      invited: (who: string, moderator: string, linkUntil: string, accessUntil: string) =>
        `🎟️ ${who} is invited as a guest. ${moderator} has their one-time link in a direct chat with me: it works once, until ${linkUntil}. Their access ends ${accessUntil}, or when a moderator ends it ("!guest end").`,
      /** The moderator's direct chat only: the link is a secret. */
      link: (who: string, caseNumber: string, url: string, linkUntil: string) =>
        `🔑 One-time link for ${who}, guest in case ${caseNumber}:\n${url}\n` +
        `Give it to them yourself (in person, by phone or a message only they read); it works once, until ${linkUntil}. ` +
        'Whoever opens it first gets the guest\'s access: if it goes astray, end it with "!guest end" in the case room and invite them again.',
      /** Members only: names the guest. */
      joined: (who: string) => `👋 ${who} joined the case as a guest.`,
      /** Members only: names the guest. */
      ended: (who: string) => `🚪 ${who}'s guest access has ended.`,
      /** Members only: names the guest. */
      linkExpired: (who: string) => `⌛ ${who}'s guest link was not used in time and no longer works.`,
      /** Members only: lists guests. */
      list: (lines: string[]) => (lines.length === 0 ? 'This case has no guests.' : `Guests of this case:\n${lines.map((line) => `• ${line}`).join('\n')}`),
      /** Every device (the reason of the removal, in the unencrypted membership event). */
      accessEndedReason: "The guest's access has ended",
      /** Every device. */
      needsDirectChat: '⚠️ A guest link is a secret, and I give it only in private: start a direct chat with me, then ask again here.',
      /** Every device. */
      notConfigured: '⚠️ Guests cannot be invited on this hub: its operator has not given it a homeserver admin token (cases.synapseAdminTokenFile).',
      /** Every device. */
      caseNotOpen: '⚠️ Guests can join only an open case.',
      /** Members only: names who was meant. */
      noSuchGuest: (who: string) => `⚠️ ${who} is no guest of this case whose access is still open ("!guests" lists them).`,
      /** Every device: the hub's reason, worded for a counsellor (a missing Consent, say). */
      refused: (why: string) => `⚠️ The guest could not be added: ${why}`,
    },

    /** Members only (it lists members, and the hub fills it with the case). The case's state, as the bot sums it up. */
    summary: {
      heading: 'Case summary',
      moderators: 'Moderators',
      staff: 'Staff',
      members: 'Members',
      muted: 'Muted',
      openHours: 'Open hours',
      alwaysOpen: 'open at all times',
      state: { open: 'Open: everyone can write', mutedAll: 'Muted: only staff and moderators can write', locked: 'Locked: only moderators can write', closed: 'Closed' },
    },
  },

  /**
   * A case's meetings (a FHIR Appointment linked to the CareTeam): the invitation, its changes,
   * the reminder, the answers. Members only (their verified logins): they carry the meeting's
   * description and name members. Only `widgetName` is not encrypted (the widget state).
   */
  meeting: {
    /** Not encrypted: the widget's name in the room's state, the same for every meeting. */
    widgetName: 'Case meeting',
    /** The title when the Appointment has no description, service or type. */
    untitled: 'Case meeting',
    heading: { original: '📅 Case meeting', updated: '📅 Case meeting (changed)' },
    fields: { when: 'When', join: 'Join', note: 'Note' },
    /** `from` as formatLocalTime writes it; `to` a time ("16:00") or a whole instant on another day. */
    when: (from: string, to: string | undefined, timeZone: string) => `${from}${to ? `–${to}` : ''} (${timeZone} time)`,
    notScheduled: 'not fixed yet',
    answerHint: 'Reply yes or no to this message (or react ✅ or ❌) to say whether you take part.',
    /** `when` as formatLocalTime writes it. */
    cancelled: (title: string, when?: string) => `🚫 The case meeting "${title}"${when ? ` on ${when}` : ''} is cancelled.`,
    reminder: (title: string, minutes: number, url: string) => `⏰ "${title}" starts in ${minutes === 1 ? 'one minute' : `${minutes} minutes`}. Join: ${url}`,
    accepted: (who: string, when?: string) => `✅ ${who} takes part in the case meeting${when ? ` on ${when}` : ''}.`,
    declined: (who: string, when?: string) => `❌ ${who} does not take part in the case meeting${when ? ` on ${when}` : ''}.`,
    refusal: {
      notInDirectory: '⚠️ Your Matrix account is not in the CareHub directory as a member of an organisation, so your answer cannot be recorded for the meeting.',
      gone: '⚠️ This meeting is no longer on record.',
      cancelled: '⚠️ This meeting is cancelled: there is nothing to answer.',
      /** The Appointment is fulfilled, arrived, checked in or a no-show. */
      over: '⚠️ This meeting has already taken place.',
    },
  },

  /**
   * The direct chat between a member and the bot (opening cases, consent, inviting, referring).
   * Sent encrypted to that member's devices; they may name the person the case is about.
   */
  direct: {
    help: [
      'I can open and run cases for you. Write:',
      '• "case open <name>, born <YYYY-MM-DD>: <reason>" to open a case about a person',
      '• "consent <how it was given> [for <numbers>]" to record that the person consented (a signed form, by phone), for the organisations of the numbered choices',
      '• "case invite <name, role, specialty, organisation or city>" to search the directory, then "case invite <numbers>" to invite',
      '• "refer <number>: <what you ask for>" to send a referral for the current case\'s person',
      '• "cases" for your open cases, "case use <number>" to choose one',
    ].join('\n'),
    welcome: (name: string) => `👋 Hello ${name}. This is CareHub.`,
    unknown: (text: string) => `❓ I did not understand "${text.length > 60 ? `${text.slice(0, 60)}…` : text}".`,
    notInDirectory: '⚠️ You are not in the CareHub directory as a member of an organisation, so I cannot act for you. Ask your organisation to add your Matrix account to your role.',
    noCase: '⚠️ There is no current case in this chat: open one with "case open <name>, born <date>: <reason>", or choose one with "cases".',
    noChoices: '⚠️ Search first ("case invite <name>"), then answer with the numbers of the list.',
    noSuchChoice: (n: number) => `⚠️ There is no choice ${n} in the last list.`,
    needsConsent: (why: string) => `🔐 ${why}\nRecord it here with "consent <how it was given>", e.g. "consent signed form".`,
    consentRecorded: (how: string, covers: string[]) => `🔐 Consent recorded (${how}), for ${covers.join(', ')}.`,
    opened: (caseNumber: string, about: string) => `📂 Case ${caseNumber} about ${about} is open. Its room is on its way to you. Invite others with "case invite <name>".`,
    choices: (lines: string[]) => (lines.length ? ['Found:', ...lines.map((line, i) => `${i + 1}. ${line}`), 'Answer "case invite <numbers>" (or "refer <number>: …").'].join('\n') : '🔍 Nobody in the directory matches that. Try a name, a role, a specialty, an organisation or a city.'),
    invited: (names: string[]) => `➕ Invited into the case: ${names.join(', ')}.`,
    refused: (why: string) => `⚠️ ${why}`,
    cases: (lines: string[]) => (lines.length ? ['Your open cases:', ...lines.map((line, i) => `${i + 1}. ${line}`), 'Answer "case use <number>".'].join('\n') : 'You have no open cases.'),
    using: (caseNumber: string) => `📂 Now working on case ${caseNumber}.`,
    referred: (to: string) => `📨 Referral sent to ${to}. I will tell you here when its status changes.`,
    referralStatus: (to: string, status: string) => `📨 Your referral to ${to} is now ${status}.`,
  },
} as const;
