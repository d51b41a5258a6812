import type { Consent, ConsentProvision } from 'fhir/r4.js';
import { consentCoverage, consentEnds, isActiveSharingConsent, NO_ACTIVE_CONSENT, organizationsCoveredBy, type ParticipantOrganization } from './consent-coverage.js';

const PATIENT = 'Patient/anna';
const NOW = new Date('2025-06-15T10:00:00Z');

const COUNSELLING = 'Organization/care-counselling-north';
const GP_PRACTICE = 'Organization/gp-jensen';
const HOME_CARE = 'Organization/home-care-sonnenschein';
const MEALS = 'Organization/meals-on-wheels';

const counsellor: ParticipantOrganization = { participant: 'PractitionerRole/counsellor-1', organization: COUNSELLING };
const gp: ParticipantOrganization = { participant: 'PractitionerRole/gp-1', organization: GP_PRACTICE };
const homeCare: ParticipantOrganization = { participant: 'HealthcareService/home-care-nursing', organization: HOME_CARE };
const meals: ParticipantOrganization = { participant: 'Organization/meals-on-wheels', organization: MEALS };

const actor = (reference: string) => ({ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { reference } });

/** What a counsellor records after Anna agrees: her data may go to her GP and her home care service. */
function annasConsent(changes: Partial<Consent> = {}, provision: Partial<ConsentProvision> = {}): Consent {
  return {
    resourceType: 'Consent',
    id: 'anna-sharing',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: PATIENT },
    dateTime: '2025-06-01',
    organization: [{ reference: COUNSELLING }],
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: { type: 'permit', period: { start: '2025-06-01', end: '2026-05-31' }, actor: [actor(GP_PRACTICE), actor(HOME_CARE)], ...provision },
    ...changes,
  };
}

describe('a counsellor opens a case for Anna', () => {
  test('with no Consent recorded, the case is refused and every participant is named as uncovered', () => {
    expect(consentCoverage([], PATIENT, [counsellor, gp], NOW)).toEqual({ covered: false, why: NO_ACTIVE_CONSENT, uncovered: [counsellor.participant, gp.participant] });
    expect(NO_ACTIVE_CONSENT).toBe("No active Consent (permit, patient-privacy) is recorded for this person: record the person's consent before opening a case.");
  });

  test("another person's Consent does not count for Anna", () => {
    const someoneElses = annasConsent({ patient: { reference: 'Patient/bernd' } });
    expect(isActiveSharingConsent(someoneElses, PATIENT, NOW)).toBe(false);
    expect(consentCoverage([someoneElses], PATIENT, [gp], NOW)).toMatchObject({ covered: false, why: NO_ACTIVE_CONSENT });
  });

  test.each(['draft', 'proposed', 'rejected', 'inactive', 'entered-in-error'] as const)('a %s Consent does not count', (status) => {
    expect(isActiveSharingConsent(annasConsent({ status }), PATIENT, NOW)).toBe(false);
    expect(consentCoverage([annasConsent({ status })], PATIENT, [gp], NOW)).toMatchObject({ covered: false, why: NO_ACTIVE_CONSENT });
  });

  test('only a privacy consent that explicitly permits counts: not a treatment consent, a deny, or a rule without type', () => {
    expect(isActiveSharingConsent(annasConsent(), PATIENT, NOW)).toBe(true);
    expect(isActiveSharingConsent(annasConsent({ scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'treatment' }] } }), PATIENT, NOW)).toBe(false);
    expect(isActiveSharingConsent(annasConsent({}, { type: 'deny' }), PATIENT, NOW)).toBe(false);
    expect(isActiveSharingConsent(annasConsent({}, { type: undefined }), PATIENT, NOW)).toBe(false);
    expect(isActiveSharingConsent(annasConsent({ provision: undefined }), PATIENT, NOW)).toBe(false);
  });

  test('a Consent whose period is over, or has not begun, does not count; its last day still does', () => {
    const expired = annasConsent({}, { period: { start: '2024-06-01', end: '2025-05-31' } });
    expect(isActiveSharingConsent(expired, PATIENT, NOW)).toBe(false);
    expect(consentCoverage([expired], PATIENT, [gp], NOW)).toMatchObject({ covered: false, why: NO_ACTIVE_CONSENT });
    expect(isActiveSharingConsent(annasConsent({}, { period: { start: '2025-07-01' } }), PATIENT, NOW)).toBe(false);
    expect(isActiveSharingConsent(annasConsent({}, { period: { start: '2025-06-01', end: '2025-06-15' } }), PATIENT, new Date('2025-06-15T23:59:59Z'))).toBe(true);
    expect(isActiveSharingConsent(annasConsent({}, { period: { start: '2025-06-01', end: '2025-06-15' } }), PATIENT, new Date('2025-06-16T00:00:00Z'))).toBe(false);
    expect(isActiveSharingConsent(annasConsent({}, { period: undefined }), PATIENT, NOW)).toBe(true);
  });

  test('a Consent recorded with a date still to come does not count yet', () => {
    expect(isActiveSharingConsent(annasConsent({ dateTime: '2025-06-15T12:00:00Z' }), PATIENT, NOW)).toBe(false);
    expect(isActiveSharingConsent(annasConsent({ dateTime: '2025-06-15' }), PATIENT, NOW)).toBe(true);
    expect(isActiveSharingConsent(annasConsent({ dateTime: undefined }), PATIENT, NOW)).toBe(true);
  });

  test("Anna's Consent covers the counselling office that recorded it and the GP and home care she named", () => {
    expect(organizationsCoveredBy(annasConsent())).toEqual(new Set([COUNSELLING, GP_PRACTICE, HOME_CARE]));
    expect(consentCoverage([annasConsent()], PATIENT, [counsellor, gp, homeCare], NOW)).toEqual({
      covered: true,
      consent: 'Consent/anna-sharing',
      consents: ['Consent/anna-sharing'],
    });
  });

  test('actors who are people or roles, not organisations, cover no organisation', () => {
    const covers = organizationsCoveredBy(annasConsent({}, { actor: [actor('Practitioner/dr-jensen'), actor('RelatedPerson/daughter')] }));
    expect(covers).toEqual(new Set([COUNSELLING]));
  });

  test('inviting an organisation Anna did not name is refused, naming the participants left uncovered', () => {
    const lost: ParticipantOrganization = { participant: 'PractitionerRole/volunteer-1', organization: undefined };
    expect(consentCoverage([annasConsent()], PATIENT, [counsellor, gp, meals, lost], NOW)).toEqual({
      covered: false,
      why:
        "The person's Consent does not cover Organization/meals-on-wheels, PractitionerRole/volunteer-1: record a Consent that names their organisations, or leave them out of the case." +
        ' PractitionerRole/volunteer-1 belongs to no organisation, so no Consent can cover it.',
      uncovered: ['Organization/meals-on-wheels', 'PractitionerRole/volunteer-1'],
    });
  });

  test('a nested deny takes an organisation back out; a nested permit adds one while its period lasts', () => {
    const withExceptions = annasConsent({}, {
      provision: [
        { type: 'deny', actor: [actor(HOME_CARE)] },
        { type: 'permit', actor: [actor(MEALS)] },
        { type: 'permit', period: { end: '2025-01-31' }, actor: [actor('Organization/old-day-care')] },
      ],
    });
    expect(organizationsCoveredBy(withExceptions, NOW)).toEqual(new Set([COUNSELLING, GP_PRACTICE, MEALS]));
    expect(consentCoverage([withExceptions], PATIENT, [gp, homeCare, meals], NOW)).toMatchObject({ covered: false, uncovered: [homeCare.participant] });
  });

  test('two Consents together cover the case; the one lasting longest is preferred', () => {
    const gpOnly = annasConsent({ id: 'anna-gp' }, { actor: [actor(GP_PRACTICE)], period: { start: '2025-06-01', end: '2025-12-31' } });
    const mealsOnly = annasConsent({ id: 'anna-meals', organization: [] }, { actor: [actor(MEALS)], period: { start: '2025-06-01' } });
    expect(consentCoverage([gpOnly, mealsOnly], PATIENT, [counsellor, gp, meals], NOW)).toEqual({
      covered: true,
      consent: 'Consent/anna-gp',
      consents: ['Consent/anna-gp', 'Consent/anna-meals'],
    });
    const longer = annasConsent({ id: 'anna-longer' }, { period: { start: '2025-06-01', end: '2027-05-31' } });
    expect(consentCoverage([annasConsent(), longer], PATIENT, [gp, homeCare], NOW)).toMatchObject({ covered: true, consent: 'Consent/anna-longer' });
  });
});

test('the expiry sweep learns when a Consent stops holding: after the whole of its last day', () => {
  expect(consentEnds(annasConsent())).toEqual(new Date('2026-06-01T00:00:00Z'));
  expect(consentEnds(annasConsent({}, { period: { end: '2026-05' } }))).toEqual(new Date('2026-06-01T00:00:00Z'));
  expect(consentEnds(annasConsent({}, { period: { end: '2026-05-31T18:00:00+02:00' } }))).toEqual(new Date('2026-05-31T16:00:01Z'));
  expect(consentEnds(annasConsent({}, { period: { start: '2025-06-01' } }))).toBeUndefined();
});

describe("a moderator invites Anna's daughter, or Anna herself, as a guest", () => {
  const daughter: ParticipantOrganization = { participant: 'RelatedPerson/anna-daughter', organization: undefined, person: PATIENT };
  const anna: ParticipantOrganization = { participant: PATIENT, organization: undefined, person: PATIENT };

  test("Anna's active Consent covers the guests she names, though they belong to no organisation", () => {
    expect(consentCoverage([annasConsent()], PATIENT, [daughter, anna], NOW)).toEqual({ covered: true, consent: 'Consent/anna-sharing', consents: ['Consent/anna-sharing'] });
  });

  test("a relative of someone else is not covered by Anna's Consent", () => {
    const stranger: ParticipantOrganization = { participant: 'RelatedPerson/someone-else', organization: undefined, person: 'Patient/bert' };
    expect(consentCoverage([annasConsent()], PATIENT, [stranger], NOW)).toMatchObject({ covered: false, uncovered: ['RelatedPerson/someone-else'] });
  });

  test('without an active Consent no guest joins, and a deny rule naming the relative keeps her out', () => {
    expect(consentCoverage([annasConsent({ status: 'inactive' })], PATIENT, [daughter], NOW)).toEqual({ covered: false, why: NO_ACTIVE_CONSENT, uncovered: [daughter.participant] });
    const denied = annasConsent({}, { provision: [{ type: 'deny', actor: [actor(daughter.participant)] }] });
    expect(consentCoverage([denied], PATIENT, [daughter, anna], NOW)).toMatchObject({ covered: false, uncovered: [daughter.participant] });
  });
});
