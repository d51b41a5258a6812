import { ANSWER_HINT, FIELD_TEXT_LIMIT, INLINE_CONTENT_LIMIT_BYTES, fhirGoesInThread, renderReferralEdit, renderReferralMessage, renderReferralResend } from './referral-message.js';

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
  const structure = { url: 'http://hl7.org/fhir/StructureDefinition/Bundle', version: '4.0.1', type: 'Bundle', fhir_version: '4.0.1' };
  const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Task', id: 'task-1' } }] };

  test('is one m.text whose body alone shows patient, request, reason, priority, requester, due date and how to answer', () => {
    const content = renderReferralMessage(view, bundle, structure);
    expect(content.msgtype).toBe('m.text');
    expect(content.body).toBe(
      [
        'Referral: Ole Nielsen – Home-care assessment',
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
    expect(content.formatted_body).toContain('<h4>Referral: Ole Nielsen – Home-care assessment</h4>');
    expect(content.formatted_body).toContain('<li><b>Reason:</b> Fall &lt;at&gt; home &amp; bruising</li>');
    expect(content['org.carehub.referral']).toEqual({ task: 'Task/task-1', serviceRequest: 'ServiceRequest/sr-1' });
  });

  test('carries the FHIR Bundle inline in its content (MSC4302)', () => {
    const content = renderReferralMessage(view, bundle, structure);
    expect(content['de.gematik.fhir.structure_definition']).toEqual(structure);
    expect(content['de.gematik.fhir.resource']).toEqual(bundle);
    expect(fhirGoesInThread(content)).toBe(false);
  });

  test('leaves the FHIR out, to follow as a file in the thread, when inline it would make the event too large', () => {
    const large = { ...bundle, entry: [{ resource: { resourceType: 'Task', id: 'task-1', description: 'x'.repeat(INLINE_CONTENT_LIMIT_BYTES) } }] };
    const content = renderReferralMessage(view, large, structure);
    expect(content).not.toHaveProperty('de.gematik.fhir.resource');
    expect(fhirGoesInThread(content)).toBe(true);
    expect(content.body).toContain('The referral as FHIR follows in this thread as a file.');
    expect(Buffer.byteLength(JSON.stringify(content))).toBeLessThan(INLINE_CONTENT_LIMIT_BYTES);
  });

  test('cuts a long field short in the text (its whole text stays in the FHIR), so the text alone never outgrows an event', () => {
    const note = 'n'.repeat(100_000);
    const content = renderReferralMessage({ ...view, note }, { ...bundle, note }, structure);
    expect(content.body).toContain(`Note: ${'n'.repeat(FIELD_TEXT_LIMIT)}… (shortened: the whole text is in the referral's FHIR)`);
    expect(Buffer.byteLength(JSON.stringify(content))).toBeLessThan(INLINE_CONTENT_LIMIT_BYTES);
    expect(fhirGoesInThread(content)).toBe(true);
  });

  test('leaves out what the referral does not say', () => {
    const content = renderReferralMessage({ ...view, reason: undefined, dueDate: undefined }, bundle, structure);
    expect(content.body).not.toMatch(/Reason:|Due:/);
  });

  test('an edit replaces text and FHIR together, and asks for no new processing status', () => {
    const current = { ...renderReferralMessage(view, bundle, structure, 'updated'), 'de.gematik.request.status': { from_device: 'BOT', lifetime: 1 } };
    const edit = renderReferralEdit('$original', current);
    expect(edit['m.relates_to']).toEqual({ rel_type: 'm.replace', event_id: '$original' });
    expect(edit['m.new_content']).toMatchObject({ msgtype: 'm.text', 'de.gematik.fhir.resource': bundle });
    expect(edit['m.new_content'].body).toMatch(/^Referral \(updated\): Ole Nielsen – Home-care assessment/);
    expect(edit.body).toMatch(/^\* Referral \(updated\)/);
    expect(edit).not.toHaveProperty('de.gematik.fhir.resource');
    expect(edit['m.new_content']).not.toHaveProperty('de.gematik.request.status');
  });

  test('a re-send is the whole referral in its thread', () => {
    const resend = renderReferralResend('$original', renderReferralMessage(view, bundle, structure, 'resent'));
    expect(resend['m.relates_to']).toMatchObject({ rel_type: 'm.thread', event_id: '$original' });
    expect(resend.body).toMatch(/^Referral \(re-sent\): Ole Nielsen – Home-care assessment\n/);
    expect(resend['de.gematik.fhir.resource']).toEqual(bundle);
  });
});
