import type { AuditEvent, Coding } from 'fhir/r4.js';
import { carehubCodeSystemUrl } from '@carehub/fhir-profiles';
import type { Queryable } from '../store/database.js';
import { createResource } from '../store/resource-store.js';

/** Every step in a case room that changes who is in it or who may write (fhir-profiles/terminology/audit.codesystem.json). */
export const CASE_STEPS = {
  'room-opened': 'Case room opened',
  'member-invited': 'Case member invited',
  'member-removed': 'Case member removed (no longer a participant)',
  'member-left': 'Case member left the room',
  'removed-by-moderator': 'Case member removed by a moderator',
  'banned-by-moderator': 'Case member banned by a moderator',
  'consent-removal': 'Case members removed: the Consent no longer covers them',
  muted: 'Case member muted',
  unmuted: 'Case member unmuted',
  'mute-ended': 'Timed mute of a case member ended',
  'muted-all': 'Everyone but staff muted',
  'unmuted-all': 'Everyone unmuted',
  locked: 'Case room locked',
  unlocked: 'Case room unlocked',
  'open-hours-set': 'Case room open hours set',
  'opened-by-hours': 'Case room opened by its open hours',
  'locked-by-hours': 'Case room locked by its open hours',
  'transcript-exported': 'Case transcript exported',
  'room-purged': 'Case room purged from the homeserver',
  'guest-invited': 'Case guest invited by a one-time link',
  'guest-joined': 'Case guest used their link and joined',
  'guest-ended': 'Case guest access ended',
  'guest-link-expired': 'Case guest link expired unused',
} as const;
export type CaseStep = keyof typeof CASE_STEPS;

const AUDIT_SYSTEM = carehubCodeSystemUrl('audit');
export const CASE_ROOM_AUDIT_TYPE: Coding = { system: AUDIT_SYSTEM, code: 'case-room', display: 'Case room moderation and membership' };
export const caseStepCoding = (step: CaseStep): Coding => ({ system: AUDIT_SYSTEM, code: `case-${step}`, display: CASE_STEPS[step] });

/** The hub itself as an agent: a step it took on its own (open hours, an expired Consent, the CareTeam changed). */
export const BY_CAREHUB = 'CareHub';

/** A Matrix user in the audit trail (a practitioner's account, never a patient's). */
const matrixUser = (userId: string) => ({ identifier: { system: 'urn:carehub:matrix-user', value: userId } });

/**
 * Records one step as an AuditEvent (FHIR R4 auditevent.html), in the caller's transaction: who
 * did it (a Matrix user, or CareHub), what case, whom it concerned, and why. Auditors read these;
 * no patient data is in them.
 */
export async function recordCaseStep(db: Queryable, step: { careTeamId: string; step: CaseStep; by: string; members?: string[]; reason?: string | undefined }): Promise<void> {
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    type: CASE_ROOM_AUDIT_TYPE,
    subtype: [caseStepCoding(step.step)],
    action: 'U',
    recorded: new Date().toISOString(),
    outcome: '0',
    agent: [step.by === BY_CAREHUB ? { requestor: false, who: { display: BY_CAREHUB } } : { requestor: true, who: matrixUser(step.by) }],
    source: { observer: { display: 'CareHub case rooms' } },
    entity: [
      { what: { reference: `CareTeam/${step.careTeamId}` }, ...(step.reason ? { description: step.reason } : {}) },
      ...(step.members ?? []).map((member) => ({ what: matrixUser(member), role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '6', display: 'User' } })),
    ],
  };
  await createResource(db, event);
}
