import type { Bundle, BundleEntry, FhirResource } from 'fhir/r4.js';
import { CAREHUB_PROFILES } from '@carehub/fhir-profiles';
import { CAREHUB_ENDPOINT_CONNECTION_SYSTEM, MATRIX_CONNECTION_CODE } from '@carehub/hub';

/** A county's small care network: who the demo's referral travels between. */
export interface DemoPeople {
  /** Matrix IDs of the two GPs, from their own accounts on the hub's homeserver. */
  gpJensen: string;
  gpBerg: string;
}

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
 * refers patients as an integrator.
 */
export function demoDirectory(people: DemoPeople): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      post('urn:uuid:c0a7e5e1-0000-4000-8000-000000000001', {
        resourceType: 'Organization',
        active: true,
        identifier: [{ system: 'urn:oid:1.2.208.176.1.1', value: '900001' }],
        meta: carehubOrganization,
        type: kind('care-counselling', 'Municipal care counselling'),
        name: 'Nordby Municipality Care Counselling',
      }),
      post('urn:uuid:c0a7e5e1-0000-4000-8000-000000000002', {
        resourceType: 'Organization',
        active: true,
        identifier: [{ system: 'urn:oid:1.2.208.176.1.1', value: '900002' }],
        meta: carehubOrganization,
        type: kind('gp-practice', 'GP practice'),
        name: 'Lindegården GP Practice',
        address: [{ city: 'Nordby', postalCode: '8900' }],
      }),
      post('urn:uuid:c0a7e5e1-0000-4000-8000-000000000003', {
        resourceType: 'Organization',
        active: true,
        identifier: [{ system: 'urn:oid:1.2.208.176.1.1', value: '900003' }],
        meta: carehubOrganization,
        type: kind('gp-practice', 'GP practice'),
        name: 'Fjordvej GP Practice',
        address: [{ city: 'Nordby', postalCode: '8920' }],
      }),
      post('urn:uuid:c0a7e5e1-0000-4000-8000-000000000004', {
        resourceType: 'Organization',
        active: true,
        identifier: [{ system: 'urn:oid:1.2.208.176.1.1', value: '900004' }],
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
