import { BOT_MESSAGES } from './bot-messages.js';
import { parseOpenHours, type OpenHoursRule } from './open-hours.js';

/**
 * What a member's message in a case room asks the bot to do. Who may ask is the hub's to decide
 * (the moderators, for all but help); this reads the words only. Targets are Matrix user ids.
 */
export type CaseCommand =
  | { kind: 'mute'; target: string; /** how long, in ms (at most 7 days); undefined: until unmuted */ forMs?: number }
  | { kind: 'unmute'; target: string }
  /** Everyone but staff and moderators. */
  | { kind: 'mute-all' }
  | { kind: 'unmute-all' }
  | { kind: 'lock' }
  | { kind: 'unlock' }
  | { kind: 'remove'; target: string; reason: string }
  | { kind: 'ban'; target: string; reason: string }
  /** undefined: "hours off", the room is open at all times. */
  | { kind: 'hours'; rule: OpenHoursRule | undefined }
  | { kind: 'close' }
  /**
   * A guest (a relative, or the person themself) invited by a one-time link. `relationship`
   * as the moderator said it ("daughter"); `self` when the guest is the person the case is
   * about. `identifiedBy`: how the moderator made sure who they are.
   */
  | { kind: 'guest'; name: string; relationship?: string; self: boolean; identifiedBy: string }
  /** Ends a guest's link or access: `who` is their Matrix user id or the name they were invited by. */
  | { kind: 'guest-end'; who: string }
  | { kind: 'guests' }
  /** A referral to a member of the case (a ServiceRequest + Task from the sender's role): any member from the directory may send one. */
  | { kind: 'refer'; target: string; request: string }
  /** `unknown`: the `!word` that was not understood. */
  | { kind: 'help'; unknown?: string }
  /** A command the bot recognised but could not read; `command` is its kind, `why` says how to write it (BOT_MESSAGES.case.syntax). */
  | { kind: 'refused-syntax'; command: string; why: string };

/** The case room's commands: each word a member may type after `!`, `/` or "case", and what it means. */
export const CASE_COMMAND_WORDS: Readonly<Record<string, CaseCommand['kind']>> = {
  mute: 'mute',
  unmute: 'unmute',
  'mute-all': 'mute-all',
  muteall: 'mute-all',
  'unmute-all': 'unmute-all',
  unmuteall: 'unmute-all',
  lock: 'lock',
  unlock: 'unlock',
  remove: 'remove',
  kick: 'remove',
  ban: 'ban',
  hours: 'hours',
  'open-hours': 'hours',
  close: 'close',
  guest: 'guest',
  'guest-end': 'guest-end',
  guests: 'guests',
  refer: 'refer',
  help: 'help',
  '?': 'help',
};

/** The longest mute a moderator can set: a longer silence is a removal, or a lock. */
const LONGEST_MUTE_MS = 7 * 24 * 3_600_000;

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1_000, sec: 1_000, secs: 1_000, second: 1_000, seconds: 1_000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};

/** "30m", "2h", "1d", "90s", "1h30m", "for 30 minutes", "1 hour and 30 minutes" in ms; undefined if not a time. */
function durationOf(text: string): number | undefined {
  let rest = text.trim().toLowerCase().replace(/^for\s+/, '');
  let total = 0;
  if (!rest) return undefined;
  while (rest) {
    const part = /^(\d+(?:[.,]\d+)?)\s*([a-z]+)\s*(?:(?:,|\band\b)\s*)?/.exec(rest);
    const unit = part ? UNIT_MS[part[2]!] : undefined;
    if (!part || !unit) return undefined;
    total += Number(part[1]!.replace(',', '.')) * unit;
    rest = rest.slice(part[0].length);
  }
  return total > 0 ? Math.round(total) : undefined;
}

/**
 * A Matrix user id (spec appendices §4.2: `@localpart:server_name`, historical localparts being
 * any printable ASCII but ':'), first in `text`, with what follows it. Punctuation after the id
 * ("@gp:carehub.test, for now") is not part of it.
 */
const LEADING_USER_ID = /^(@[!-9;-~]+:(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)(?::\d{1,5})?)[,.;:!?]*(?:\s+|$)([\s\S]*)$/;
const USER_ID = /^@[!-9;-~]+:(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)(?::\d{1,5})?$/;

/** The user a mention links to: matrix.to (or a client's own permalink prefix) `#/@id`, or a `matrix:u/` URI (MSC2312). */
function userOfLink(href: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(href);
  } catch {
    return undefined;
  }
  const uri = /^matrix:u\/([^?#]+)/i.exec(decoded);
  const permalink = /#\/(?:user\/)?(@[^?]+)/.exec(decoded);
  const id = uri ? `@${uri[1]}` : permalink?.[1];
  return id && USER_ID.test(id) ? id : undefined;
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
const decodeEntities = (html: string) =>
  html.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });

/**
 * The message as text with every mention ("pill") written as the user id it links to. Element's
 * plain body holds the mentioned member's display name, which may be several words or shared by
 * two people; the formatted body's link says exactly whom. Undefined when it mentions no one.
 */
function textWithMentions(formattedBody: string): string | undefined {
  let mentions = 0;
  const text = formattedBody
    // A reply's quoted original (spec §11.19.2.1 fallback) is not part of the command.
    .replace(/<mx-reply>[\s\S]*?<\/mx-reply>/gi, '')
    .replace(/<a\s[^>]*?href\s*=\s*(["'])(.*?)\1[^>]*>([\s\S]*?)<\/a>/gi, (_whole, _quote, href: string, label: string) => {
      const user = userOfLink(decodeEntities(href));
      if (!user) return label;
      mentions++;
      return user;
    })
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<[^>]*>/g, '');
  return mentions > 0 ? decodeEntities(text).trim() : undefined;
}

/** A reply's body starts with the quoted original ("> <@gp> …" lines and a blank line); drop it. */
function withoutReplyFallback(body: string): string {
  const lines = body.split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith('>')) i++;
  return lines.slice(i).join('\n').trim();
}

/** "all", "everyone", "@room": the whole room rather than one member. */
const EVERYONE = /^(?:all|everyone|everybody|@room)\b[,.!]?\s*([\s\S]*)$/i;

const refused = (command: CaseCommand['kind'], why: string): CaseCommand => ({ kind: 'refused-syntax', command, why });

/** Names and what is said of a guest are short: anything longer is no name (and bounded work). */
const MAX_NAME = 100;
const MAX_IDENTIFICATION = 200;
/** A referral's request in a room is a line or two; a letter goes as a document. */
const MAX_REQUEST = 1000;

/** "the person", "self", "herself": the guest is the person the case is about. */
const THE_PERSON = /^(?:self|the person|the client|patient|the patient|themself|themselves|herself|himself)$/i;

/** "!guest Anna Nielsen, daughter: ID card seen in person" (name, relationship, how identified). */
function guestOf(args: string): CaseCommand {
  const syntax = BOT_MESSAGES.case.syntax;
  const colon = args.indexOf(':');
  if (colon < 0) return refused('guest', syntax.guestIdentified);
  const [name = '', ...rest] = args.slice(0, colon).split(',').map((part) => part.trim());
  const relationship = rest.join(', ');
  const identifiedBy = args.slice(colon + 1).trim();
  if (!name || name.length > MAX_NAME || relationship.length > MAX_NAME) return refused('guest', syntax.guestName);
  if (!identifiedBy || identifiedBy.length > MAX_IDENTIFICATION) return refused('guest', syntax.guestIdentified);
  const self = THE_PERSON.test(relationship) || THE_PERSON.test(name);
  return { kind: 'guest', name, ...(relationship ? { relationship } : {}), self, identifiedBy };
}

/** What a known command word and the text after it ask for. */
function commandOf(kind: CaseCommand['kind'], args: string): CaseCommand {
  const syntax = BOT_MESSAGES.case.syntax;
  const target = LEADING_USER_ID.exec(args);
  switch (kind) {
    case 'mute': {
      const everyone = EVERYONE.exec(args);
      if (everyone) return durationOf(everyone[1]!) === undefined ? { kind: 'mute-all' } : refused('mute-all', syntax.muteAllForTime);
      if (!target) return refused(kind, syntax.whom(kind));
      if (!target[2]) return { kind, target: target[1]! };
      const forMs = durationOf(target[2]);
      if (forMs === undefined) return refused(kind, syntax.duration);
      return forMs > LONGEST_MUTE_MS ? refused(kind, syntax.tooLong) : { kind, target: target[1]!, forMs };
    }
    case 'unmute':
      if (EVERYONE.test(args)) return { kind: 'unmute-all' };
      return target ? { kind, target: target[1]! } : refused(kind, syntax.whom(kind));
    case 'mute-all':
      return durationOf(args) === undefined ? { kind } : refused(kind, syntax.muteAllForTime);
    case 'remove':
    case 'ban': {
      if (!target) return refused(kind, syntax.whom(kind));
      // "!remove @x:hs: left the team", "!ban @x:hs - spam"
      const reason = target[2]!.replace(/^[:\-–—]\s*/, '').trim();
      return reason ? { kind, target: target[1]!, reason } : refused(kind, syntax.reason(kind));
    }
    case 'hours': {
      if (/^(?:off|none|clear|always)$/i.test(args)) return { kind, rule: undefined };
      if (!args) return refused(kind, syntax.hoursExample);
      const reading = parseOpenHours(args);
      return 'rule' in reading ? { kind, rule: reading.rule } : refused(kind, reading.why);
    }
    case 'refer': {
      if (!target) return refused(kind, syntax.referWhom);
      // "!refer @gp:hs: home visit this week", "!refer @gp:hs - wound check"
      const request = target[2]!.replace(/^[:\-–—]\s*/, '').trim();
      if (!request) return refused(kind, syntax.referWhat);
      return request.length <= MAX_REQUEST ? { kind, target: target[1]!, request } : refused(kind, syntax.referTooLong);
    }
    case 'guest':
    case 'guest-end': {
      const ending = kind === 'guest-end' ? args : /^(?:end|stop|revoke)\b\s*([\s\S]*)$/i.exec(args)?.[1];
      if (ending !== undefined) {
        const who = ending.replace(/^[:\-–—]\s*/, '').trim();
        return who && who.length <= MAX_NAME ? { kind: 'guest-end', who } : refused('guest-end', syntax.guestEnd);
      }
      return guestOf(args);
    }
    // The rest take no arguments; words after them ("!lock for the weekend") are the moderator's aside.
    case 'unmute-all':
    case 'lock':
    case 'unlock':
    case 'close':
    case 'guests':
    case 'help':
      return { kind };
    case 'refused-syntax':
      throw new Error('refused-syntax is not a command word');
  }
}

const WORD = String.raw`([a-z][a-z-]*|\?)`;
/** `!word …` or `/word …`, the word straight after the sign ("! that was urgent" is conversation). */
const SIGNED = new RegExp(String.raw`^[!/]${WORD}(?::|(?=\s)|$)\s*([\s\S]*)$`, 'i');
/** `case word …`, as the first word of the message. */
const AFTER_CASE = new RegExp(String.raw`^${WORD}(?::|(?=\s)|$)\s*([\s\S]*)$`, 'i');

/**
 * Reads a member's message in a case room: the command it gives, or undefined for conversation.
 * A command is `!word`, `/word` or `!case word` (Element runs its own `/` commands and asks
 * before sending an unknown one, so `!` is the sign that works everywhere), or a message whose
 * first word is "case" followed by a command word ("case close"). An unknown `!word` is answered
 * with help; "case" before an unknown word is conversation ("Case conference moved to Friday").
 * `formattedBody` (org.matrix.custom.html) is read for mentions, which name a member exactly.
 */
export function parseCaseCommand(body: string, formattedBody?: string): CaseCommand | undefined {
  const text = (formattedBody !== undefined ? textWithMentions(formattedBody) : undefined) ?? withoutReplyFallback(body);
  const signed = SIGNED.exec(text);
  if (signed) {
    let word = signed[1]!.toLowerCase();
    let args = signed[2]!.trim();
    if (word === 'case') {
      const after = AFTER_CASE.exec(args);
      if (!after) return { kind: 'help' };
      word = after[1]!.toLowerCase();
      args = after[2]!.trim();
    }
    const kind = CASE_COMMAND_WORDS[word];
    return kind ? commandOf(kind, args) : { kind: 'help', unknown: word };
  }
  const spoken = /^case\s+([\s\S]*)$/i.exec(text);
  const after = spoken ? AFTER_CASE.exec(spoken[1]!.trim()) : null;
  const kind = after ? CASE_COMMAND_WORDS[after[1]!.toLowerCase()] : undefined;
  return kind ? commandOf(kind, after![2]!.trim()) : undefined;
}
