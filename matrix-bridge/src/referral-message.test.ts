import { ANSWER_HINT, renderReferralEdit, renderReferralMessage, renderReferralText } from './referral-message.js';

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
    const content = renderReferralText(view);
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
    const content = renderReferralText({ ...view, reason: undefined, dueDate: undefined });
    expect(content.body).not.toMatch(/Reason:|Due:/);
  });

  const file = {
    msgtype: 'm.file' as const,
    body: 'referral-task-1.fhir.json',
    filename: 'referral-task-1.fhir.json',
    info: { mimetype: 'application/fhir+json', size: 812 },
    file: { v: 'v2' as const, url: 'mxc://carehub.test/abc', key: { kty: 'oct' as const, alg: 'A256CTR' as const, ext: true as const, key_ops: ['encrypt', 'decrypt'], k: 'k' }, iv: 'iv', hashes: { sha256: 'h' } },
  };
  const structure = { url: 'http://hl7.org/fhir/StructureDefinition/Bundle', version: '4.0.1', type: 'Bundle', fhir_version: '4.0.1' };

  test('is one m.file: the FHIR file, with the readable text as its caption', () => {
    const content = renderReferralMessage(view, file, structure);
    expect(content).toMatchObject({ msgtype: 'm.file', filename: 'referral-task-1.fhir.json', info: { mimetype: 'application/fhir+json' }, file: { url: 'mxc://carehub.test/abc' } });
    // A caption is a body other than the filename (spec v1.10); it is the text, not the file's name.
    expect(content.body).toBe(renderReferralText(view).body);
    expect(content['de.gematik.fhir.structure_definition']).toEqual(structure);
  });

  test('an edit replaces text and file together, and asks for no new processing status', () => {
    const current = { ...renderReferralMessage(view, file, structure), 'de.gematik.request.status': { from_device: 'BOT', lifetime: 1 } };
    const edit = renderReferralEdit('$original', current);
    expect(edit['m.relates_to']).toEqual({ rel_type: 'm.replace', event_id: '$original' });
    expect(edit['m.new_content']).toMatchObject({ msgtype: 'm.file', file: { url: 'mxc://carehub.test/abc' } });
    expect(edit['m.new_content'].body).toMatch(/^Referral \(updated\): Home-care assessment/);
    expect(edit['m.new_content']).not.toHaveProperty('de.gematik.request.status');
    expect(edit).not.toHaveProperty('de.gematik.request.status');
  });
});
