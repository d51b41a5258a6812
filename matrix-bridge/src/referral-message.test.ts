import { ANSWER_HINT, renderReferralMessage } from './referral-message.js';

describe('the referral message a GP reads', () => {
  const view = {
    taskId: 'task-1',
    serviceRequestId: 'sr-1',
    patient: { name: 'Ole Nielsen', birthDate: '1948-03-14' },
    request: 'Home-care assessment',
    reason: 'Fall <at> home & bruising',
    priority: 'urgent',
    requester: 'Aarhus Clinic',
    dueDate: '2026-12-01',
  };

  test('shows patient, request, reason, priority, requester and due date in plain text and HTML', () => {
    const content = renderReferralMessage(view);
    expect(content.body).toBe(
      [
        'New referral: Home-care assessment',
        'Patient: Ole Nielsen, born 1948-03-14',
        'Request: Home-care assessment',
        'Reason: Fall <at> home & bruising',
        'Priority: urgent',
        'From: Aarhus Clinic',
        'Due: 2026-12-01',
        '',
        ANSWER_HINT,
      ].join('\n'),
    );
    expect(content.formatted_body).toContain('<li><b>Reason:</b> Fall &lt;at&gt; home &amp; bruising</li>');
    expect(content['org.carehub.referral']).toEqual({ task: 'Task/task-1', serviceRequest: 'ServiceRequest/sr-1' });
  });

  test('leaves out what the referral does not say', () => {
    const content = renderReferralMessage({ ...view, reason: undefined, dueDate: undefined });
    expect(content.body).not.toMatch(/Reason:|Due:/);
  });
});
