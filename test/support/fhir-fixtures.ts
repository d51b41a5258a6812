import type { Bundle, BundleEntry, FhirResource } from 'fhir/r4.js';
import { CAREHUB_ENDPOINT_CONNECTION_SYSTEM, MATRIX_CONNECTION_CODE } from '@carehub/hub';

/** A transaction entry that creates `resource` under `fullUrl` (a urn:uuid other entries may name). */
export const entry = (fullUrl: string, resource: FhirResource): BundleEntry => ({
  fullUrl,
  resource,
  request: { method: 'POST', url: resource.resourceType },
});

export const transaction = (...entries: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', type: 'transaction', entry: entries });

/** A directory Endpoint that reaches `userId` over Matrix, managed by `organization` if given. */
export const matrixEndpoint = (userId: string, organization?: string): FhirResource => ({
  resourceType: 'Endpoint',
  status: 'active',
  connectionType: { system: CAREHUB_ENDPOINT_CONNECTION_SYSTEM, code: MATRIX_CONNECTION_CODE },
  payloadType: [{ text: 'CareHub referral messages' }],
  address: `matrix:u/${userId}`,
  ...(organization ? { managingOrganization: { reference: organization } } : {}),
});

/** A GP practice with one GP whose PractitionerRole has a Matrix Endpoint for `matrixUserId`. */
export function gpPracticeBundle(matrixUserId: string): Bundle {
  return transaction(
    entry('urn:uuid:8f0c1a55-0000-4000-8000-000000000001', {
      resourceType: 'Organization',
      active: true,
      identifier: [{ system: 'urn:oid:1.2.208.176.1.1', value: '123456789' }],
      name: 'Lindegaarden GP Practice',
    }),
    entry('urn:uuid:8f0c1a55-0000-4000-8000-000000000002', {
      resourceType: 'Practitioner',
      active: true,
      name: [{ family: 'Jensen', given: ['Karen'], prefix: ['Dr.'] }],
    }),
    entry('urn:uuid:8f0c1a55-0000-4000-8000-000000000003', matrixEndpoint(matrixUserId)),
    entry('urn:uuid:8f0c1a55-0000-4000-8000-000000000004', {
      resourceType: 'PractitionerRole',
      active: true,
      practitioner: { reference: 'urn:uuid:8f0c1a55-0000-4000-8000-000000000002' },
      organization: { reference: 'urn:uuid:8f0c1a55-0000-4000-8000-000000000001' },
      code: [{ text: 'General practitioner' }],
      endpoint: [{ reference: 'urn:uuid:8f0c1a55-0000-4000-8000-000000000003' }],
    }),
  );
}

/** A clinic's referral: Patient + ServiceRequest + Task, the Task owned by `owner` (e.g. "PractitionerRole/…"). */
export function referralBundle(owner: string, reason = 'Follow-up after hip replacement'): Bundle {
  return transaction(
    entry('urn:uuid:7a1e0000-0000-4000-8000-000000000001', {
      resourceType: 'Patient',
      name: [{ family: 'Nielsen', given: ['Ole'] }],
      birthDate: '1948-03-14',
    }),
    entry('urn:uuid:7a1e0000-0000-4000-8000-000000000002', {
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      priority: 'urgent',
      code: { text: 'Home-care assessment' },
      reasonCode: [{ text: reason }],
      subject: { reference: 'urn:uuid:7a1e0000-0000-4000-8000-000000000001' },
      requester: { display: 'Aarhus Clinic, Orthopaedics' },
    }),
    entry('urn:uuid:7a1e0000-0000-4000-8000-000000000003', {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      focus: { reference: 'urn:uuid:7a1e0000-0000-4000-8000-000000000002' },
      for: { reference: 'urn:uuid:7a1e0000-0000-4000-8000-000000000001' },
      requester: { display: 'Aarhus Clinic, Orthopaedics' },
      owner: { reference: owner },
      authoredOn: new Date().toISOString(),
    }),
  );
}

/** The id of the first resource of `type` in a transaction-response Bundle. */
export function idOf(response: Bundle, type: string): string {
  const found = response.entry?.find((e) => e.resource?.resourceType === type)?.resource?.id;
  if (!found) throw new Error(`no ${type} in the transaction response`);
  return found;
}
