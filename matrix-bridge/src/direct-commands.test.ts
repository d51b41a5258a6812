import { parseDirectCommand } from './direct-commands.js';

describe('what a counsellor types to the bot in her direct chat', () => {
  test('opening a case names the person and their birth date, with a reason after a colon', () => {
    expect(parseDirectCommand('case open Ingrid Halvorsen, born 1941-05-02: discharge planning after hip fracture')).toEqual({
      kind: 'open',
      name: 'Ingrid Halvorsen',
      birthDate: '1941-05-02',
      reason: 'discharge planning after hip fracture',
    });
    expect(parseDirectCommand('case open Ingrid Halvorsen geb. 2.5.1941')).toEqual({ kind: 'open', name: 'Ingrid Halvorsen', birthDate: '1941-05-02' });
  });

  test('without a birth date the bot cannot tell people apart: not understood, so the help comes', () => {
    expect(parseDirectCommand('case open Ingrid Halvorsen')).toEqual({ kind: 'unknown', text: 'case open Ingrid Halvorsen' });
  });

  test('recording consent says how it was given, and for which of the choices', () => {
    expect(parseDirectCommand('consent signed form')).toEqual({ kind: 'consent', how: 'signed form', choices: [] });
    expect(parseDirectCommand('consent given by phone for 1, 2')).toEqual({ kind: 'consent', how: 'given by phone', choices: [1, 2] });
    expect(parseDirectCommand('consent signed form for 1 and 3')).toEqual({ kind: 'consent', how: 'signed form', choices: [1, 3] });
  });

  test('inviting searches the directory by words, and takes numbered choices', () => {
    expect(parseDirectCommand('case invite Berg')).toEqual({ kind: 'search', query: 'Berg' });
    expect(parseDirectCommand('invite home care Hamburg')).toEqual({ kind: 'search', query: 'home care Hamburg' });
    expect(parseDirectCommand('case invite 1, 2')).toEqual({ kind: 'invite', choices: [1, 2] });
    expect(parseDirectCommand('find Klinikum')).toEqual({ kind: 'search', query: 'Klinikum' });
  });

  test('a referral names a choice and what is asked', () => {
    expect(parseDirectCommand('refer 1: home visit for wound care')).toEqual({ kind: 'refer', choice: 1, request: 'home visit for wound care' });
  });

  test('help, the case list, choosing a case, and anything else', () => {
    expect(parseDirectCommand('help')).toEqual({ kind: 'help' });
    expect(parseDirectCommand('!help')).toEqual({ kind: 'help' });
    expect(parseDirectCommand('cases')).toEqual({ kind: 'list' });
    expect(parseDirectCommand('case use 2')).toEqual({ kind: 'use', choice: 2 });
    expect(parseDirectCommand('good morning')).toEqual({ kind: 'unknown', text: 'good morning' });
  });
});
