import type { Consent, ConsentProvision } from 'fhir/r4.js';
import { endOf, periodContains, startOf } from '../fhir/fhir-period.js';

/** A case member and the organisation whose staff it is: what a Consent has to cover. */
export interface ParticipantOrganization {
  /** The CareTeam member's reference, e.g. 'PractitionerRole/gp-1'. */
  participant: string;
  /**
   * 'Organization/x', the organisation the member belongs to: PractitionerRole.organization,
   * HealthcareService.providedBy, or the Organization itself; undefined when none is recorded.
   */
  organization: string | undefined;
  /**
   * For a guest (a RelatedPerson, or the Patient themself): the Patient they are or are a
   * relative of. The person's own active Consent to the case covers the guests they name to its
   * moderator; a Consent's deny rule naming the RelatedPerson keeps them out.
   */
  person?: string | undefined;
}

export type Coverage =
  | {
      covered: true;
      /** 'Consent/<id>': the Consent the case rests on (the first of `consents`). */
      consent: string;
      /** Every Consent needed to cover all participants, when one alone does not; the case ends when the first of them does. */
      consents: string[];
    }
  | {
      covered: false;
      /** Worded for an integrator and a counsellor alike; names participants, never the person. */
      why: string;
      /** The participant references no active Consent covers. */
      uncovered: string[];
    };

const CONSENT_SCOPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/consentscope';
const PATIENT_PRIVACY = 'patient-privacy';

export const NO_ACTIVE_CONSENT =
  "No active Consent (permit, patient-privacy) is recorded for this person: record the person's consent before opening a case.";

/**
 * Whether a Consent lets CareHub share this person's data at `at`: active, about this patient,
 * a privacy consent (scope patient-privacy: sharing information, not treatment or research),
 * a permit, in force at `at`, and not recorded in the future.
 */
export function isActiveSharingConsent(consent: Consent, patient: string, at: Date): boolean {
  if (consent.status !== 'active') return false;
  if (consent.patient?.reference !== patient) return false;
  if (!(consent.scope.coding ?? []).some((coding) => coding.system === CONSENT_SCOPE_SYSTEM && coding.code === PATIENT_PRIVACY)) return false;
  // R4 Consent.provision.type is 0..1 "deny | permit", and its definition even says "not
  // permitted in root rule": with no type, what the Consent allows rests on the base policy in
  // policyRule (opt-in or opt-out), which CareHub does not interpret. Sharing across
  // organisations needs an explicit opt-in, so an absent type is not taken as a permit.
  if (consent.provision?.type !== 'permit') return false;
  if (!periodContains(consent.provision.period, at)) return false;
  // Consent.dateTime is when the statement was made; one dated later than `at` did not exist yet.
  if (consent.dateTime !== undefined) {
    const made = startOf(consent.dateTime);
    if (made === undefined || made > at.getTime()) return false;
  }
  return true;
}

/**
 * The organisations a Consent lets the person's data be shared with: its custodians
 * (Consent.organization, the counsellor's office that recorded it) and the Organizations among
 * the root rule's actors, then the nested rules in order as exceptions (R4: "rules which provide
 * exceptions to the base rule or subrules"): a nested permit adds its Organization actors, a
 * nested deny takes them away again, custodians included. With `at`, a nested rule whose own
 * period does not contain `at` is left out; without it, every rule counts as written.
 * Only relative references ('Organization/x') are compared, as the hub stores them.
 */
export function organizationsCoveredBy(consent: Consent, at?: Date): Set<string> {
  const covered = new Set([...(consent.organization ?? []).flatMap((custodian) => organizationReference(custodian.reference))]);
  if (consent.provision?.type !== 'permit') return covered;
  for (const organization of actorOrganizations(consent.provision)) covered.add(organization);
  applyExceptions(consent.provision.provision ?? [], covered, at);
  return covered;
}

/** When the Consent stops being in force (provision.period.end, to the end of its precision), for the expiry sweep; undefined if open-ended. */
export function consentEnds(consent: Consent): Date | undefined {
  const end = consent.provision?.period?.end;
  if (end === undefined) return undefined;
  const after = endOf(end);
  return after === undefined ? undefined : new Date(after);
}

/**
 * Whether this person's active Consents, together, cover every participant's organisation at
 * `at`. A participant is covered when any one active Consent covers its organisation; one that
 * belongs to no organisation cannot be covered. When several Consents are needed, the ones that
 * last longest are preferred, so the case outlives as few expiries as it can.
 */
export function consentCoverage(consents: Consent[], patient: string, participants: ParticipantOrganization[], at: Date): Coverage {
  // A Consent that has not been stored has no id to cite in the case's record.
  const active = consents
    .filter((consent) => consent.id !== undefined && isActiveSharingConsent(consent, patient, at))
    .map((consent) => ({ reference: `Consent/${consent.id!}`, ends: consentEnds(consent)?.getTime() ?? Infinity, covers: organizationsCoveredBy(consent, at), denies: deniedActors(consent, at) }))
    .sort((a, b) => b.ends - a.ends);
  if (active.length === 0) return { covered: false, why: NO_ACTIVE_CONSENT, uncovered: participants.map(({ participant }) => participant) };

  const coversAll = active.find((consent) => participants.every((member) => coveredBy(consent, member, patient)));
  if (coversAll) return { covered: true, consent: coversAll.reference, consents: [coversAll.reference] };

  const used = new Set<string>();
  const uncovered: ParticipantOrganization[] = [];
  for (const member of participants) {
    const covering = active.find((consent) => coveredBy(consent, member, patient));
    if (covering) used.add(covering.reference);
    else uncovered.push(member);
  }
  if (uncovered.length === 0) return { covered: true, consent: [...used][0]!, consents: [...used] };
  return { covered: false, why: tooNarrow(uncovered), uncovered: uncovered.map(({ participant }) => participant) };
}

/** Whether one active Consent covers a member: their organisation, or (a guest) the person's own say, unless it denies them. */
function coveredBy(consent: { covers: Set<string>; denies: Set<string> }, member: ParticipantOrganization, patient: string): boolean {
  if (member.person !== undefined) return member.person === patient && !consent.denies.has(member.participant);
  return member.organization !== undefined && consent.covers.has(member.organization);
}

/** Every actor a deny rule in force at `at` names, as a relative reference ("RelatedPerson/x"). */
function deniedActors(consent: Consent, at: Date): Set<string> {
  const denied = new Set<string>();
  const visit = (rules: readonly ConsentProvision[]) => {
    for (const rule of rules) {
      if (!periodContains(rule.period, at)) continue;
      if (rule.type === 'deny') for (const actor of rule.actor ?? []) if (actor.reference.reference) denied.add(actor.reference.reference);
      visit(rule.provision ?? []);
    }
  };
  visit(consent.provision?.provision ?? []);
  return denied;
}

function tooNarrow(uncovered: ParticipantOrganization[]): string {
  const names = uncovered.map(({ participant }) => participant).join(', ');
  const withoutOrganization = uncovered.filter(({ organization }) => organization === undefined).map(({ participant }) => participant);
  const noOrganization =
    withoutOrganization.length === 0 ? '' : ` ${withoutOrganization.join(', ')} ${withoutOrganization.length === 1 ? 'belongs' : 'belong'} to no organisation, so no Consent can cover ${withoutOrganization.length === 1 ? 'it' : 'them'}.`;
  return `The person's Consent does not cover ${names}: record a Consent that names their organisations, or leave them out of the case.${noOrganization}`;
}

function applyExceptions(rules: readonly ConsentProvision[], covered: Set<string>, at: Date | undefined): void {
  for (const rule of rules) {
    if (at !== undefined && !periodContains(rule.period, at)) continue;
    // R4 requires a type on nested rules; one without says neither permit nor deny, so it changes nothing.
    if (rule.type === 'permit') for (const organization of actorOrganizations(rule)) covered.add(organization);
    if (rule.type === 'deny') for (const organization of actorOrganizations(rule)) covered.delete(organization);
    applyExceptions(rule.provision ?? [], covered, at);
  }
}

function actorOrganizations(rule: ConsentProvision): string[] {
  return (rule.actor ?? []).flatMap((actor) => organizationReference(actor.reference.reference));
}

function organizationReference(reference: string | undefined): string[] {
  return reference?.startsWith('Organization/') ? [reference] : [];
}
