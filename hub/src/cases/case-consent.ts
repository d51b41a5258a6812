import type { CareTeam, Consent } from 'fhir/r4.js';
import { organizationMayRead } from '../access/access-policy.js';
import { ownerOf } from '../auth/ownership.js';
import { FhirError, issue } from '../fhir/operation-outcome.js';
import type { Queryable } from '../store/database.js';
import { findResourcesContaining } from '../store/resource-store.js';
import { activeCaseParticipants, newParticipants } from './case-participants.js';
import { consentCoverage } from './consent-coverage.js';

/** A case that is over, or was never one, needs no Consent. */
const CLOSED = new Set<CareTeam['status']>(['inactive', 'entered-in-error']);

/**
 * The person's Consents the case's managing organisation (the counselling office that runs it)
 * may see: the Consent a case rests on must be one its office can show, not one another
 * organisation keeps to itself.
 */
export async function consentsOf(db: Queryable, patient: string, managingOrganization: string | undefined): Promise<Consent[]> {
  const consents = await findResourcesContaining<Consent & { id: string }>(db, 'Consent', { patient: { reference: patient } });
  if (!managingOrganization) return [];
  const visible: Consent[] = [];
  // One with no owner was written with authorization off (a trusted development network), as
  // an Endpoint without an organisation still serves (resolve-matrix-recipients.ts).
  for (const consent of consents) if (!ownerOf(consent) || (await organizationMayRead(db, managingOrganization, 'Consent', consent.id))) visible.push(consent);
  return visible;
}

/** "Organization/<id>" of the office that runs a case. */
export function managingOrganizationOf(careTeam: CareTeam): string | undefined {
  return careTeam.managingOrganization?.find((reference) => reference.reference?.startsWith('Organization/'))?.reference;
}

/**
 * Refuses (422) a case that shares a person's data beyond what they consented to: opening one
 * needs an active Consent (permit, patient-privacy) for its subject, and every participant added
 * needs its organisation covered by one. Participants already in the case are not asked again
 * (the hub ends those a narrowed Consent no longer covers: `endUncoveredParticipants`).
 */
export async function assertCaseConsent(db: Queryable, careTeam: CareTeam, previous: CareTeam | undefined, entryPath: string, at = new Date()): Promise<void> {
  if (CLOSED.has(careTeam.status)) return;
  const patient = careTeam.subject?.reference;
  if (!patient?.startsWith('Patient/')) {
    throw new FhirError(422, [issue('business-rule', 'A case is about a person: CareTeam.subject must reference the Patient', [`${entryPath}.subject`])]);
  }
  const managing = managingOrganizationOf(careTeam);
  if (!managing) {
    throw new FhirError(422, [issue('business-rule', 'A case needs the organisation that runs it: CareTeam.managingOrganization (the counselling office)', [`${entryPath}.managingOrganization`])]);
  }
  const added = await newParticipants(db, careTeam, previous, at);
  if (previous && !CLOSED.has(previous.status) && added.length === 0) return;
  const coverage = consentCoverage(await consentsOf(db, patient, managing), patient, added, at);
  if (!coverage.covered) throw new FhirError(422, [issue('business-rule', coverage.why, [`${entryPath}.participant`])]);
}

/**
 * The participants of an open case that the person's Consents no longer cover at `at` (revoked,
 * narrowed, expired). The managing organisation's own staff stay: the counsellor must be able to
 * tell the person and close the case.
 */
export async function uncoveredParticipants(db: Queryable, careTeam: CareTeam, at: Date): Promise<string[]> {
  if (CLOSED.has(careTeam.status)) return [];
  const patient = careTeam.subject?.reference;
  const managing = managingOrganizationOf(careTeam);
  if (!patient || !managing) return [];
  const others = (await activeCaseParticipants(db, careTeam, at)).filter((p) => p.organization !== managing);
  if (others.length === 0) return [];
  const coverage = consentCoverage(await consentsOf(db, patient, managing), patient, others.map((p) => ({ participant: p.member, organization: p.organization, person: p.person })), at);
  return coverage.covered ? [] : coverage.uncovered;
}

/** The open cases about a person. */
export async function openCasesOf(db: Queryable, patient: string): Promise<Array<CareTeam & { id: string }>> {
  const cases = await findResourcesContaining<CareTeam & { id: string }>(db, 'CareTeam', { subject: { reference: patient } });
  return cases.filter((careTeam) => !CLOSED.has(careTeam.status));
}
