import { BOT_MESSAGES } from './bot-messages.js';
import { CASE_COMMAND_WORDS, parseCaseCommand } from './case-commands.js';

const GP = '@gp:carehub.test';
const NURSE = '@nurse.jensen:homecare.example';
const syntax = BOT_MESSAGES.case.syntax;

/** An Element mention ("pill") of `user`, shown as `name`. */
const pill = (user: string, name: string) => `<a href="https://matrix.to/#/${user}">${name}</a>`;

describe('a counsellor moderates a case room with commands', () => {
  test('mutes a GP, for a while or until unmuted, with any of the usual signs', () => {
    expect(parseCaseCommand(`!mute ${GP}`)).toEqual({ kind: 'mute', target: GP });
    expect(parseCaseCommand(`/mute ${GP} 30m`)).toEqual({ kind: 'mute', target: GP, forMs: 30 * 60_000 });
    expect(parseCaseCommand(`!case mute ${GP} 2h`)).toEqual({ kind: 'mute', target: GP, forMs: 2 * 3_600_000 });
    expect(parseCaseCommand(`case mute ${GP} for 30 minutes`)).toEqual({ kind: 'mute', target: GP, forMs: 30 * 60_000 });
    expect(parseCaseCommand(`!Mute ${GP}, 1h30m`)).toEqual({ kind: 'mute', target: GP, forMs: 90 * 60_000 });
    expect(parseCaseCommand(`!mute ${GP} 90s`)).toEqual({ kind: 'mute', target: GP, forMs: 90_000 });
    expect(parseCaseCommand(`!mute ${GP} 1d`)).toEqual({ kind: 'mute', target: GP, forMs: 86_400_000 });
    expect(parseCaseCommand(`!mute ${GP} 1 hour and 30 minutes`)).toEqual({ kind: 'mute', target: GP, forMs: 90 * 60_000 });
    expect(parseCaseCommand(`!mute ${GP} 7d`)).toEqual({ kind: 'mute', target: GP, forMs: 7 * 86_400_000 });
    expect(parseCaseCommand(`!unmute ${GP}`)).toEqual({ kind: 'unmute', target: GP });
  });

  test('is told how to write a mute the bot could not read', () => {
    expect(parseCaseCommand(`!mute ${GP} 8d`)).toEqual({ kind: 'refused-syntax', command: 'mute', why: syntax.tooLong });
    expect(parseCaseCommand(`!mute ${GP} a little while`)).toEqual({ kind: 'refused-syntax', command: 'mute', why: syntax.duration });
    expect(parseCaseCommand(`!mute ${GP} 0m`)).toEqual({ kind: 'refused-syntax', command: 'mute', why: syntax.duration });
    expect(parseCaseCommand('!mute Dr Hansen')).toEqual({ kind: 'refused-syntax', command: 'mute', why: syntax.whom('mute') });
    expect(parseCaseCommand('!unmute')).toEqual({ kind: 'refused-syntax', command: 'unmute', why: syntax.whom('unmute') });
  });

  test('names a member by mentioning them in Element', () => {
    // Element's plain body has the display name; its formatted body links to the user.
    expect(parseCaseCommand('!mute Dr Hansen 30m', `!mute ${pill(GP, 'Dr Hansen')} 30m`)).toEqual({ kind: 'mute', target: GP, forMs: 30 * 60_000 });
    expect(parseCaseCommand('!remove Nurse Jensen: left the team', `!remove ${pill(NURSE, 'Nurse Jensen')}: left the team`)).toEqual({ kind: 'remove', target: NURSE, reason: 'left the team' });
    const encoded = `<a href="https://matrix.to/#/%40gp%3Acarehub.test?via=carehub.test">Dr Hansen</a>`;
    expect(parseCaseCommand('!unmute Dr Hansen', `!unmute ${encoded}`)).toEqual({ kind: 'unmute', target: GP });
    expect(parseCaseCommand('!unmute Dr Hansen', '!unmute <a href="matrix:u/gp:carehub.test?action=chat">Dr Hansen</a>')).toEqual({ kind: 'unmute', target: GP });
    // A formatted body without a mention (bold, a link to a web page) is read from the plain body.
    expect(parseCaseCommand(`!mute ${GP} 2h`, `<b>!mute</b> ${GP} 2h`)).toEqual({ kind: 'mute', target: GP, forMs: 2 * 3_600_000 });
  });

  test('mutes and unmutes everyone but staff', () => {
    expect(parseCaseCommand('!mute all')).toEqual({ kind: 'mute-all' });
    expect(parseCaseCommand('!mute everyone')).toEqual({ kind: 'mute-all' });
    expect(parseCaseCommand('!mute-all')).toEqual({ kind: 'mute-all' });
    expect(parseCaseCommand('case mute all')).toEqual({ kind: 'mute-all' });
    expect(parseCaseCommand('!unmute all')).toEqual({ kind: 'unmute-all' });
    expect(parseCaseCommand('!unmute everyone')).toEqual({ kind: 'unmute-all' });
    expect(parseCaseCommand('!mute all 30m')).toEqual({ kind: 'refused-syntax', command: 'mute-all', why: syntax.muteAllForTime });
  });

  test('locks, unlocks and closes the case', () => {
    expect(parseCaseCommand('/lock')).toEqual({ kind: 'lock' });
    expect(parseCaseCommand('!unlock')).toEqual({ kind: 'unlock' });
    expect(parseCaseCommand('!lock for the weekend')).toEqual({ kind: 'lock' });
    expect(parseCaseCommand('!case close')).toEqual({ kind: 'close' });
    expect(parseCaseCommand('case close')).toEqual({ kind: 'close' });
    expect(parseCaseCommand('Case Close')).toEqual({ kind: 'close' });
  });

  test('removes or bans a member, always saying why', () => {
    expect(parseCaseCommand(`!remove ${GP} no longer the patient's GP`)).toEqual({ kind: 'remove', target: GP, reason: "no longer the patient's GP" });
    expect(parseCaseCommand(`!kick ${GP} - moved practice`)).toEqual({ kind: 'remove', target: GP, reason: 'moved practice' });
    expect(parseCaseCommand(`!ban ${NURSE} posted to the wrong case`)).toEqual({ kind: 'ban', target: NURSE, reason: 'posted to the wrong case' });
    expect(parseCaseCommand(`!remove ${GP}`)).toEqual({ kind: 'refused-syntax', command: 'remove', why: syntax.reason('remove') });
    expect(parseCaseCommand(`!kick ${GP}:`)).toEqual({ kind: 'refused-syntax', command: 'remove', why: syntax.reason('remove') });
    expect(parseCaseCommand(`!ban ${GP}`)).toEqual({ kind: 'refused-syntax', command: 'ban', why: syntax.reason('ban') });
    expect(parseCaseCommand('!ban')).toEqual({ kind: 'refused-syntax', command: 'ban', why: syntax.whom('ban') });
    // The counsellor is warned the reason goes out unencrypted.
    expect(syntax.reason('remove')).toContain('not end-to-end encrypted');
  });

  test('sets the open hours, or takes them off', () => {
    expect(parseCaseCommand('!hours tue 15:00-16:00')).toEqual({ kind: 'hours', rule: { days: ['tue'], start: '15:00', end: '16:00' } });
    expect(parseCaseCommand('!hours tuesday 15:00-16:00')).toEqual({ kind: 'hours', rule: { days: ['tue'], start: '15:00', end: '16:00' } });
    expect(parseCaseCommand('case hours tue,thu 15:00-16:00')).toEqual({ kind: 'hours', rule: { days: ['tue', 'thu'], start: '15:00', end: '16:00' } });
    expect(parseCaseCommand('!hours off')).toEqual({ kind: 'hours', rule: undefined });
    expect(parseCaseCommand('!hours')).toEqual({ kind: 'refused-syntax', command: 'hours', why: syntax.hoursExample });
    expect(parseCaseCommand('!hours tue 16:00-15:00')).toEqual({ kind: 'refused-syntax', command: 'hours', why: syntax.hoursEndBeforeStart });
  });

  test('asks for help, or types a command the bot does not know', () => {
    expect(parseCaseCommand('!help')).toEqual({ kind: 'help' });
    expect(parseCaseCommand('case help')).toEqual({ kind: 'help' });
    expect(parseCaseCommand('!case')).toEqual({ kind: 'help' });
    expect(parseCaseCommand('!?')).toEqual({ kind: 'help' });
    expect(parseCaseCommand('!silence @gp:carehub.test')).toEqual({ kind: 'help', unknown: 'silence' });
    expect(parseCaseCommand('!case reopen')).toEqual({ kind: 'help', unknown: 'reopen' });
    expect(BOT_MESSAGES.case.unknownCommand('silence')).toContain(BOT_MESSAGES.case.help);
  });

  test('a reply giving a command is read without the quoted original', () => {
    const reply = `> <${GP}> Shall I send the discharge letter?\n\n!mute ${GP} 30m`;
    expect(parseCaseCommand(reply)).toEqual({ kind: 'mute', target: GP, forMs: 30 * 60_000 });
    const formatted = `<mx-reply><blockquote><a href="https://matrix.to/#/!room:carehub.test/$ev">In reply to</a> ${pill(GP, 'Dr Hansen')}<br>Shall I?</blockquote></mx-reply>!mute ${pill(GP, 'Dr Hansen')} 30m`;
    expect(parseCaseCommand('> <@gp:carehub.test> Shall I?\n\n!mute Dr Hansen 30m', formatted)).toEqual({ kind: 'mute', target: GP, forMs: 30 * 60_000 });
  });
});

describe('everything else in a case room is conversation', () => {
  test.each([
    'Shall I send the discharge letter?',
    'Case conference moved to Friday',
    'Case closed?',
    'case',
    '! that was urgent',
    '/var/log is full',
    'Please mute your microphone',
    '',
  ])('%j', (text) => {
    expect(parseCaseCommand(text)).toBeUndefined();
  });
});

test('every command word means a command a counsellor can give', () => {
  for (const [word, kind] of Object.entries(CASE_COMMAND_WORDS)) {
    expect(kind).not.toBe('refused-syntax');
    expect(parseCaseCommand(`!${word}`)?.kind).toEqual(expect.stringMatching(new RegExp(`^(${kind}|refused-syntax)$`)));
  }
});

describe('a counsellor invites a guest by a one-time link', () => {
  test('names the guest, their relationship and how she identified them', () => {
    expect(parseCaseCommand('!guest Anna Nielsen, daughter: ID card seen in person')).toEqual({ kind: 'guest', name: 'Anna Nielsen', relationship: 'daughter', self: false, identifiedBy: 'ID card seen in person' });
    expect(parseCaseCommand('case guest Ole Nielsen, self: known to me from home visits')).toEqual({ kind: 'guest', name: 'Ole Nielsen', relationship: 'self', self: true, identifiedBy: 'known to me from home visits' });
    expect(parseCaseCommand('!guest Jonas Lund: video call with ID card')).toEqual({ kind: 'guest', name: 'Jonas Lund', self: false, identifiedBy: 'video call with ID card' });
  });

  test('is told how to write one the bot could not read', () => {
    expect(parseCaseCommand('!guest Anna Nielsen, daughter')).toEqual({ kind: 'refused-syntax', command: 'guest', why: syntax.guestIdentified });
    expect(parseCaseCommand('!guest : ID card')).toEqual({ kind: 'refused-syntax', command: 'guest', why: syntax.guestName });
    expect(parseCaseCommand(`!guest ${'A'.repeat(101)}: ID card`)).toEqual({ kind: 'refused-syntax', command: 'guest', why: syntax.guestName });
    expect(parseCaseCommand(`!guest Anna: ${'x'.repeat(201)}`)).toEqual({ kind: 'refused-syntax', command: 'guest', why: syntax.guestIdentified });
  });

  test("ends a guest's access, by name or account, and lists the guests", () => {
    expect(parseCaseCommand('!guest end Anna Nielsen')).toEqual({ kind: 'guest-end', who: 'Anna Nielsen' });
    expect(parseCaseCommand('!guest-end @guest-0a1b:carehub.test')).toEqual({ kind: 'guest-end', who: '@guest-0a1b:carehub.test' });
    expect(parseCaseCommand('!guest revoke: Anna Nielsen')).toEqual({ kind: 'guest-end', who: 'Anna Nielsen' });
    expect(parseCaseCommand('!guest end')).toEqual({ kind: 'refused-syntax', command: 'guest-end', why: syntax.guestEnd });
    expect(parseCaseCommand('!guests')).toEqual({ kind: 'guests' });
  });
});

describe('any member refers to another member from the case room', () => {
  test('names the recipient and the request', () => {
    expect(parseCaseCommand(`!refer ${GP}: wound check this week`)).toEqual({ kind: 'refer', target: GP, request: 'wound check this week' });
    expect(parseCaseCommand(`!refer ${pill(GP, 'Dr. Jonas Berg')} - home visit`, `!refer ${pill(GP, 'Dr. Jonas Berg')} - home visit`)).toEqual({ kind: 'refer', target: GP, request: 'home visit' });
  });

  test('is told how to write one the bot could not read', () => {
    expect(parseCaseCommand('!refer Dr Berg: home visit')).toEqual({ kind: 'refused-syntax', command: 'refer', why: syntax.referWhom });
    expect(parseCaseCommand(`!refer ${GP}`)).toEqual({ kind: 'refused-syntax', command: 'refer', why: syntax.referWhat });
    expect(parseCaseCommand(`!refer ${GP}: ${'x'.repeat(1001)}`)).toEqual({ kind: 'refused-syntax', command: 'refer', why: syntax.referTooLong });
  });
});
