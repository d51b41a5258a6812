import { meetingTime, meetingUrl, meetingWidget, renderMeetingCancellation, renderMeetingInvitation, type MeetingView } from './meeting-message.js';

const view: MeetingView = {
  appointment: 'Appointment/a1',
  title: 'Discharge planning for Ingrid Halvorsen',
  start: new Date('2026-04-02T13:00:00Z'),
  end: new Date('2026-04-02T14:00:00Z'),
  note: 'Bring the medication plan',
  timeZone: 'Europe/Berlin',
  url: 'https://meet.example.org/carehub-0123abcd',
};

describe('a meeting in a case room', () => {
  test('its link is the configured server and a conference name of its random id', () => {
    expect(meetingUrl('https://meet.example.org/', '0123abcd')).toBe('https://meet.example.org/carehub-0123abcd');
    expect(meetingUrl('https://meet.jit.si', '0123abcd')).toBe('https://meet.jit.si/carehub-0123abcd');
  });

  test('its time is said on the case wall clock, the end as a time on the same day', () => {
    expect(meetingTime(view.start, view.end, 'Europe/Berlin')).toBe('Thu 2 Apr, 15:00–16:00 (Europe/Berlin time)');
    expect(meetingTime(view.start, new Date('2026-04-03T08:00:00Z'), 'Europe/Berlin')).toBe('Thu 2 Apr, 15:00–Fri 3 Apr, 10:00 (Europe/Berlin time)');
    expect(meetingTime(undefined, undefined, 'UTC')).toBe('not fixed yet');
  });

  test('the invitation names the meeting, its time and link, asks for yes or no, and says which Appointment it is', () => {
    const content = renderMeetingInvitation(view);
    expect(content.body).toBe(
      [
        '📅 Case meeting: Discharge planning for Ingrid Halvorsen',
        'When: Thu 2 Apr, 15:00–16:00 (Europe/Berlin time)',
        'Join: https://meet.example.org/carehub-0123abcd',
        'Note: Bring the medication plan',
        'Reply yes or no to this message (or react ✅ or ❌) to say whether you take part.',
      ].join('\n'),
    );
    expect(content.formatted_body).toContain('<a href="https://meet.example.org/carehub-0123abcd">');
    expect(content['org.carehub.appointment']).toBe('Appointment/a1');
    expect(content).not.toHaveProperty('m.relates_to');
  });

  test('a change is a reply to the first invitation, answerable the same way', () => {
    const content = renderMeetingInvitation(view, { updated: { inReplyTo: '$first' } });
    expect(content.body.startsWith('📅 Case meeting (changed): ')).toBe(true);
    expect(content['m.relates_to']).toEqual({ 'm.in_reply_to': { event_id: '$first' } });
    expect(content['org.carehub.appointment']).toBe('Appointment/a1');
  });

  test('a cancellation replies to the invitation', () => {
    expect(renderMeetingCancellation(view, '$first')).toEqual({
      msgtype: 'm.notice',
      body: '🚫 The case meeting "Discharge planning for Ingrid Halvorsen" on Thu 2 Apr, 15:00 is cancelled.',
      'm.relates_to': { 'm.in_reply_to': { event_id: '$first' } },
    });
  });

  test("the widget is Element's Jitsi shape, keyed by the conference id, with a fixed name and nothing about the meeting", () => {
    const widget = meetingWidget('https://meet.example.org', '0123abcd', '@carehub:hs');
    expect(widget).toEqual({
      stateKey: '0123abcd',
      content: {
        type: 'jitsi',
        url: 'https://meet.example.org/carehub-0123abcd',
        name: 'Case meeting',
        id: '0123abcd',
        creatorUserId: '@carehub:hs',
        data: { domain: 'meet.example.org', conferenceId: 'carehub-0123abcd', isAudioOnly: false },
      },
    });
  });
});
