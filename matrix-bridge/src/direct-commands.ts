/**
 * What a counsellor types in her direct chat with the hub's bot. Plain words, no prefix: the
 * chat is with the bot alone, so every message is meant for it; anything it cannot read gets
 * the help, never silence.
 */
export type DirectCommand =
  | { kind: 'help' }
  /** Open a case about a person, named by name and birth date, with an optional reason. */
  | { kind: 'open'; name: string; birthDate: string; reason?: string }
  /** Record that the person consented, how (a signed form, by phone), and optionally for which of the last choices. */
  | { kind: 'consent'; how: string; choices: number[] }
  /** Search the directory (name, role, specialty, organisation, city) for whom to invite or refer to. */
  | { kind: 'search'; query: string }
  /** Invite the given numbered choices of the last search into the current case. */
  | { kind: 'invite'; choices: number[] }
  /** Refer the current case's person to the given choice, with what is asked. */
  | { kind: 'refer'; choice: number; request: string }
  /** The counsellor's open cases; `case use <n>` makes one the current case. */
  | { kind: 'list' }
  | { kind: 'use'; choice: number }
  | { kind: 'unknown'; text: string };

const numbers = (text: string) =>
  text
    .split(/[\s,;]+|\band\b/)
    .map((part) => part.trim())
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);

const ISO_DATE = /(\d{4}-\d{2}-\d{2})/;
const GERMAN_DATE = /(\d{1,2})\.(\d{1,2})\.(\d{4})/;

/** A birth date as written (2026-05-02, or 2.5.1941), as a FHIR date. */
function birthDateIn(text: string): { date: string; at: number; length: number } | undefined {
  const iso = ISO_DATE.exec(text);
  if (iso) return { date: iso[1]!, at: iso.index, length: iso[0].length };
  const german = GERMAN_DATE.exec(text);
  if (german) return { date: `${german[3]}-${german[2]!.padStart(2, '0')}-${german[1]!.padStart(2, '0')}`, at: german.index, length: german[0].length };
  return undefined;
}

/** Reads one message of the direct chat. */
export function parseDirectCommand(body: string): DirectCommand {
  const text = body.trim().replace(/^[!/]/, '');
  const lower = text.toLowerCase();
  if (lower === '' || lower === 'help' || lower === '?' || lower === 'hilfe') return { kind: 'help' };
  const open = /^case\s+open\s+(.+)$/i.exec(text);
  if (open) {
    const rest = open[1]!;
    const date = birthDateIn(rest);
    if (!date) return { kind: 'unknown', text };
    const name = rest.slice(0, date.at).replace(/[,\s]*(born|geb\.?)?\s*$/i, '').trim();
    const reason = rest.slice(date.at + date.length).replace(/^\s*[:,–-]\s*/, '').trim();
    if (!name) return { kind: 'unknown', text };
    return { kind: 'open', name, birthDate: date.date, ...(reason ? { reason } : {}) };
  }
  const consent = /^consent\s+(.+?)(?:\s+for\s+([\d,;\s]+|[\d,;\s]+and[\d\s]+))?$/i.exec(text);
  if (consent) return { kind: 'consent', how: consent[1]!.trim(), choices: consent[2] ? numbers(consent[2]) : [] };
  const invite = /^(?:case\s+)?invite\s+(.+)$/i.exec(text);
  if (invite) {
    const choices = /^[\d,;\s]+(and\s+\d+)?$/.test(invite[1]!) ? numbers(invite[1]!) : [];
    return choices.length > 0 ? { kind: 'invite', choices } : { kind: 'search', query: invite[1]!.trim() };
  }
  const find = /^(?:case\s+)?(?:find|search)\s+(.+)$/i.exec(text);
  if (find) return { kind: 'search', query: find[1]!.trim() };
  const refer = /^refer\s+(\d+)\s*[:,–-]?\s*(.+)$/i.exec(text);
  if (refer) return { kind: 'refer', choice: Number(refer[1]), request: refer[2]!.trim() };
  if (/^cases?$/i.test(text) || /^case\s+list$/i.test(text)) return { kind: 'list' };
  const use = /^case\s+use\s+(\d+)$/i.exec(text);
  if (use) return { kind: 'use', choice: Number(use[1]) };
  return { kind: 'unknown', text };
}
