import type { CareTeam, Consent, DocumentReference, Resource, ServiceRequest, Subscription, Task } from 'fhir/r4.js';
import { isOnlyMetaChange, isOpenReferral, ORIGIN_TAG_SYSTEM, writeEffectsOf } from './write-effect-plan.js';

type Stored<T extends Resource> = T & { id: string };
const kinds = (stored: Stored<Resource>, previous?: Resource) => writeEffectsOf(stored, previous).map((e) => e.kind);

const task = (status: Task['status'], extra: Partial<Task> = {}): Stored<Task> => ({
  resourceType: 'Task',
  id: 't1',
  status,
  intent: 'order',
  focus: { reference: 'ServiceRequest/s1' },
  owner: { reference: 'PractitionerRole/gp-1' },
  ...extra,
});
const serviceRequest = (note: string, versionId = '1'): Stored<ServiceRequest> => ({
  resourceType: 'ServiceRequest',
  id: 's1',
  meta: { versionId },
  status: 'active',
  intent: 'order',
  subject: { reference: 'Patient/p1' },
  note: [{ text: note }],
});
const documentReference = (related: string[], fromMatrix = false): Stored<DocumentReference> => ({
  resourceType: 'DocumentReference',
  id: 'd1',
  ...(fromMatrix ? { meta: { tag: [{ system: ORIGIN_TAG_SYSTEM, code: 'matrix' }] } } : {}),
  status: 'current',
  content: [{ attachment: { url: 'Binary/b1' } }],
  context: { related: related.map((reference) => ({ reference })) },
});

const careTeam = (participants: string[], versionId = '1'): Stored<CareTeam> => ({
  resourceType: 'CareTeam',
  id: 'ct1',
  meta: { versionId },
  status: 'active',
  subject: { reference: 'Patient/anna' },
  participant: participants.map((reference) => ({ member: { reference } })),
});
const consent = (organizations: string[], versionId = '1'): Stored<Consent> => ({
  resourceType: 'Consent',
  id: 'anna-sharing',
  meta: { versionId },
  status: 'active',
  scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
  category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
  patient: { reference: 'Patient/anna' },
  provision: { type: 'permit', actor: organizations.map((reference) => ({ role: { coding: [{ code: 'IRCP' }] }, reference: { reference } })) },
});

test('a new referral Task is checked, routed to its room and told to subscribers', () => {
  expect(kinds(task('requested'))).toEqual(['check-task-transition', 'route-referral', 'notify-subscribers']);
});

test('a cancelled referral tells its room why, once', () => {
  const cancelled = task('cancelled', { statusReason: { text: 'the patient moved' } });
  expect(writeEffectsOf(cancelled, task('accepted'))).toContainEqual({
    kind: 'room-notice',
    payload: { taskId: 't1', notice: { text: '🚫 This referral was cancelled by the requester: the patient moved No further action is needed.' } },
  });
  const withCoding = task('cancelled', { statusReason: { coding: [{ display: 'duplicate' }] } });
  expect(writeEffectsOf(withCoding, task('requested')).find((e) => e.kind === 'room-notice')).toMatchObject({ payload: { notice: { text: expect.stringContaining(': duplicate') } } });
  expect(writeEffectsOf(task('cancelled'), task('requested')).find((e) => e.kind === 'room-notice')).toMatchObject({
    payload: { notice: { text: '🚫 This referral was cancelled by the requester. No further action is needed.' } },
  });
  // Saving a cancelled Task again, or creating one cancelled, tells no one in the room.
  expect(kinds(task('cancelled'), task('cancelled'))).not.toContain('room-notice');
  expect(kinds(task('cancelled'))).not.toContain('room-notice');
});

test("a changed ServiceRequest is shown again in its open referrals' rooms; a new one or a re-save is not", () => {
  expect(writeEffectsOf(serviceRequest('urgent'), serviceRequest('routine'))).toEqual([
    { kind: 'edit-open-referrals', serviceRequestId: 's1' },
    { kind: 'notify-subscribers' },
  ]);
  expect(kinds(serviceRequest('routine'))).toEqual(['notify-subscribers']);
  expect(kinds(serviceRequest('routine', '2'), serviceRequest('routine', '1'))).toEqual(['notify-subscribers']);
});

test('a document newly related to referrals goes to each of them; those it was already related to are not sent again', () => {
  expect(writeEffectsOf(documentReference(['Task/t1', 'Task/t2', 'Patient/p1']), documentReference(['Task/t1']))).toEqual([
    { kind: 'send-document', documentReferenceId: 'd1', taskId: 't2' },
    { kind: 'notify-subscribers' },
  ]);
  expect(kinds(documentReference(['Task/t1']), documentReference(['Task/t1']))).toEqual(['notify-subscribers']);
});

test('a document that came from a referral room is not sent back into one', () => {
  expect(kinds(documentReference(['Task/t1'], true))).toEqual(['notify-subscribers']);
});

test("a document added to a referral's Task.input goes to that referral", () => {
  const input = (...ids: string[]) => ids.map((id) => ({ type: { text: 'document' }, valueReference: { reference: `DocumentReference/${id}` } }));
  const effects = writeEffectsOf(task('accepted', { input: [...input('d1', 'd2'), { type: { text: 'note' }, valueString: 'x' }] }), task('accepted', { input: input('d1') }));
  expect(effects.filter((e) => e.kind === 'send-document')).toEqual([{ kind: 'send-document', documentReferenceId: 'd2', taskId: 't1' }]);
});

test('a Subscription is only checked: it is nothing anyone subscribes to', () => {
  const subscription = { resourceType: 'Subscription', id: 'sub1', status: 'requested', reason: 'x', criteria: 'Task?status=accepted', channel: { type: 'rest-hook' } } as const;
  expect(writeEffectsOf(subscription)).toEqual([{ kind: 'check-subscription' }]);
  // Switched off (by the hub after failures, or by its owner), it calls nobody: nothing to check.
  expect(writeEffectsOf({ ...subscription, status: 'error' } as Stored<Subscription>)).toEqual([]);
  expect(writeEffectsOf({ ...subscription, status: 'off' } as Stored<Subscription>)).toEqual([]);
});

test('directory writes set nothing in motion', () => {
  expect(writeEffectsOf({ resourceType: 'Organization', id: 'o1', name: 'Fjell legekontor' } as Stored<Resource>)).toEqual([]);
  expect(writeEffectsOf({ resourceType: 'PractitionerRole', id: 'r1' } as Stored<Resource>)).toEqual([]);
});

test('documents go only to referrals still open and about a ServiceRequest', () => {
  expect(isOpenReferral(task('in-progress'))).toBe(true);
  expect(isOpenReferral(task('completed'))).toBe(false);
  expect(isOpenReferral(task('requested', { focus: { reference: 'Patient/p1' } }))).toBe(false);
  expect(isOpenReferral(task('requested', { focus: undefined }))).toBe(false);
});

test('only a change outside meta is a change', () => {
  expect(isOnlyMetaChange(serviceRequest('a', '2'), serviceRequest('a', '1'))).toBe(true);
  expect(isOnlyMetaChange(serviceRequest('b', '2'), serviceRequest('a', '1'))).toBe(false);
  expect(isOnlyMetaChange(serviceRequest('a'), undefined)).toBe(false);
});

test("a counsellor's case (CareTeam) is checked against the person's Consent, then its room follows it", () => {
  const opened = careTeam(['PractitionerRole/counsellor-1', 'PractitionerRole/gp-1']);
  expect(writeEffectsOf(opened)).toEqual([{ kind: 'check-case-consent' }, { kind: 'settle-case', careTeamId: 'ct1' }]);
  const withHomeCare = careTeam(['PractitionerRole/counsellor-1', 'PractitionerRole/gp-1', 'HealthcareService/home-care'], '2');
  expect(writeEffectsOf(withHomeCare, opened)).toEqual([{ kind: 'check-case-consent' }, { kind: 'settle-case', careTeamId: 'ct1' }]);
});

test('saving a case again unchanged (only its meta differs) checks nothing and leaves its room alone', () => {
  expect(writeEffectsOf(careTeam(['PractitionerRole/gp-1'], '2'), careTeam(['PractitionerRole/gp-1'], '1'))).toEqual([]);
});

test("a changed Consent is followed in the open cases about its person; a new one, or a re-save, is not", () => {
  const before = consent(['Organization/gp-jensen', 'Organization/home-care']);
  const narrowed = consent(['Organization/gp-jensen'], '2');
  expect(writeEffectsOf(narrowed, before)).toEqual([{ kind: 'follow-consent', patient: 'Patient/anna' }]);
  // A new Consent only adds to what the person allows: it takes nobody out of a case.
  expect(writeEffectsOf(consent(['Organization/gp-jensen']))).toEqual([]);
  expect(kinds(consent(['Organization/gp-jensen'], '3'), narrowed)).not.toContain('follow-consent');
});
