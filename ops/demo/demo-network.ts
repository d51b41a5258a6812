import type { Bundle, BundleEntry, FhirResource } from 'fhir/r4.js';
import { CAREHUB_PROFILES } from '@carehub/fhir-profiles';
import { CAREHUB_ENDPOINT_CONNECTION_SYSTEM, MATRIX_CONNECTION_CODE } from '@carehub/hub';

/** A county's small care network: who the demo's referral travels between. */
export interface DemoPeople {
  /** Matrix IDs of the two GPs, from their own accounts on the hub's homeserver. */
  gpJensen: string;
  gpBerg: string;
}

/** The identifier system of the demo's Organizations (a national organisation register's OID). */
export const DEMO_ORGANIZATION_REGISTER = 'urn:oid:1.2.208.176.1.1';
/** The register numbers of the demo's Organizations: the first story's four and the home-care service. */
export const DEMO_ORGANIZATION_NUMBERS = ['900001', '900002', '900003', '900004', '900005'] as const;

/** A kind of provider, as CareHub's Organization profile codes it. */
const kind = (code: string, display: string) => [{ coding: [{ system: 'http://carehub.example.org/fhir/CodeSystem/organization-kind', code, display }] }];
const carehubOrganization = { profile: [CAREHUB_PROFILES.organization] };

const post = (fullUrl: string, resource: FhirResource): BundleEntry => ({ fullUrl, resource, request: { method: 'POST', url: resource.resourceType } });
const matrixEndpoint = (fullUrl: string, userId: string, name: string): BundleEntry =>
  post(fullUrl, {
    resourceType: 'Endpoint',
    status: 'active',
    name,
    connectionType: { system: CAREHUB_ENDPOINT_CONNECTION_SYSTEM, code: MATRIX_CONNECTION_CODE },
    payloadType: [{ text: 'CareHub referral messages' }],
    address: `matrix:u/${userId}`,
  });

/**
 * The directory the demo seeds in one transaction: Nordby county's care-counselling service,
 * two GP practices with their GPs (each reachable over Matrix) and the hospital clinic that
 * refers patients as an integrator. The counsellor's story adds to it (demoCaseDirectory).
 */
export function demoDirectory(people: DemoPeople): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      post('urn:uuid:c0a7e5e1-0000-4000-8000-000000000001', {
        resourceType: 'Organization',
        active: true,
        identifier: [{ system: DEMO_ORGANIZATION_REGISTER, value: '900001' }],
        meta: carehubOrganization,
        type: kind('care-counselling', 'Municipal care counselling'),
        name: 'Nordby Municipality Care Counselling',
      }),
      post('urn:uuid:c0a7e5e1-0000-4000-8000-000000000002', {
        resourceType: 'Organization',
        active: true,
        identifier: [{ system: DEMO_ORGANIZATION_REGISTER, value: '900002' }],
        meta: carehubOrganization,
        type: kind('gp-practice', 'GP practice'),
        name: 'Lindegården GP Practice',
        address: [{ city: 'Nordby', postalCode: '8900' }],
      }),
      post('urn:uuid:c0a7e5e1-0000-4000-8000-000000000003', {
        resourceType: 'Organization',
        active: true,
        identifier: [{ system: DEMO_ORGANIZATION_REGISTER, value: '900003' }],
        meta: carehubOrganization,
        type: kind('gp-practice', 'GP practice'),
        name: 'Fjordvej GP Practice',
        address: [{ city: 'Nordby', postalCode: '8920' }],
      }),
      post('urn:uuid:c0a7e5e1-0000-4000-8000-000000000004', {
        resourceType: 'Organization',
        active: true,
        identifier: [{ system: DEMO_ORGANIZATION_REGISTER, value: '900004' }],
        meta: carehubOrganization,
        type: kind('clinic', 'Hospital clinic'),
        name: 'Nordby Regional Hospital, Orthopaedics',
      }),
      post('urn:uuid:c0a7e5e1-0000-4000-8000-000000000011', { resourceType: 'Practitioner', active: true, name: [{ prefix: ['Dr.'], given: ['Karen'], family: 'Jensen' }] }),
      post('urn:uuid:c0a7e5e1-0000-4000-8000-000000000012', { resourceType: 'Practitioner', active: true, name: [{ prefix: ['Dr.'], given: ['Sara'], family: 'Berg' }] }),
      matrixEndpoint('urn:uuid:c0a7e5e1-0000-4000-8000-000000000021', people.gpJensen, 'Dr. Jensen (Matrix)'),
      matrixEndpoint('urn:uuid:c0a7e5e1-0000-4000-8000-000000000022', people.gpBerg, 'Dr. Berg (Matrix)'),
      post('urn:uuid:c0a7e5e1-0000-4000-8000-000000000031', {
        resourceType: 'PractitionerRole',
        active: true,
        practitioner: { reference: 'urn:uuid:c0a7e5e1-0000-4000-8000-000000000011' },
        organization: { reference: 'urn:uuid:c0a7e5e1-0000-4000-8000-000000000002' },
        code: [{ text: 'General practitioner' }],
        endpoint: [{ reference: 'urn:uuid:c0a7e5e1-0000-4000-8000-000000000021' }],
      }),
      post('urn:uuid:c0a7e5e1-0000-4000-8000-000000000032', {
        resourceType: 'PractitionerRole',
        active: true,
        practitioner: { reference: 'urn:uuid:c0a7e5e1-0000-4000-8000-000000000012' },
        organization: { reference: 'urn:uuid:c0a7e5e1-0000-4000-8000-000000000003' },
        code: [{ text: 'General practitioner' }],
        endpoint: [{ reference: 'urn:uuid:c0a7e5e1-0000-4000-8000-000000000022' }],
      }),
    ],
  };
}

/** The people of the counsellor's story who are new to the directory. */
export interface CaseStoryPeople {
  /** Matrix IDs, from their own accounts on the hub's homeserver. */
  counsellor: string;
  nurse: string;
  /** "Organization/<id>" of the care-counselling office the first story's directory holds. */
  counsellingOffice: string;
}

/**
 * What the county operator adds to the directory for the counsellor's story: the counsellor in
 * the care-counselling office, and Nordby's home-care service with its nurse, each reachable
 * over Matrix. One transaction.
 */
export function demoCaseDirectory(people: CaseStoryPeople): Bundle {
  const urn = (n: string) => `urn:uuid:c0a7e5e1-0000-4000-8000-0000000001${n}`;
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      post(urn('01'), {
        resourceType: 'Organization',
        active: true,
        identifier: [{ system: DEMO_ORGANIZATION_REGISTER, value: '900005' }],
        meta: carehubOrganization,
        type: kind('home-care', 'Home care provider'),
        name: 'Nordby Home Care',
        address: [{ city: 'Nordby', postalCode: '8900' }],
      }),
      post(urn('11'), { resourceType: 'Practitioner', active: true, name: [{ given: ['Maren'], family: 'Voss' }] }),
      post(urn('12'), { resourceType: 'Practitioner', active: true, name: [{ given: ['Mette'], family: 'Holm' }] }),
      matrixEndpoint(urn('21'), people.counsellor, 'Maren Voss (Matrix)'),
      matrixEndpoint(urn('22'), people.nurse, 'Mette Holm (Matrix)'),
      post(urn('31'), {
        resourceType: 'PractitionerRole',
        active: true,
        practitioner: { reference: urn('11') },
        organization: { reference: people.counsellingOffice },
        code: [{ text: 'Care counsellor' }],
        endpoint: [{ reference: urn('21') }],
      }),
      post(urn('32'), {
        resourceType: 'PractitionerRole',
        active: true,
        practitioner: { reference: urn('12') },
        organization: { reference: urn('01') },
        code: [{ text: 'Home-care nurse' }],
        endpoint: [{ reference: urn('22') }],
      }),
    ],
  };
}

/** The clinic's referral of a patient to a GP's role, as its system would post it. */
export function demoReferral(gpRole: string, clinic: string): Bundle {
  const patient = 'urn:uuid:d3e0a1b2-0000-4000-8000-000000000001';
  const request = 'urn:uuid:d3e0a1b2-0000-4000-8000-000000000002';
  const due = new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString().slice(0, 10);
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      post(patient, { resourceType: 'Patient', name: [{ given: ['Ole'], family: 'Nielsen' }], birthDate: '1948-03-14' }),
      post(request, {
        resourceType: 'ServiceRequest',
        status: 'active',
        intent: 'order',
        priority: 'urgent',
        code: { text: 'Follow-up and home-care assessment after discharge' },
        reasonCode: [{ text: 'Total hip replacement, discharged today; lives alone' }],
        subject: { reference: patient },
        requester: { reference: clinic },
        note: [{ text: 'Please check wound healing and mobility within a week.' }],
      }),
      post('urn:uuid:d3e0a1b2-0000-4000-8000-000000000003', {
        resourceType: 'Task',
        status: 'requested',
        intent: 'order',
        priority: 'urgent',
        focus: { reference: request },
        for: { reference: patient },
        requester: { reference: clinic },
        owner: { reference: gpRole },
        authoredOn: new Date().toISOString(),
        restriction: { period: { end: due } },
      }),
    ],
  };
}
