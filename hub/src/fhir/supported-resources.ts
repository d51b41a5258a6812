/**
 * The resource types the hub stores and serves. The CapabilityStatement at /fhir/metadata is
 * generated from this list, so what the hub advertises and what it accepts cannot drift apart.
 */
export const SUPPORTED_RESOURCE_TYPES = [
  // The provider directory.
  'Organization',
  'Practitioner',
  'PractitionerRole',
  'HealthcareService',
  'Location',
  'Endpoint',
  'CareTeam',
  // Referral, document and case workflow.
  'Patient',
  'ServiceRequest',
  'Task',
  'Communication',
  'DocumentReference',
  'Binary',
  'Consent',
  'Provenance',
  'AuditEvent',
  'Subscription',
  'Appointment',
  // A case's guests: a relative invited by a one-time link (docs/cases.md, Guests).
  'RelatedPerson',
] as const;
export type SupportedResourceType = (typeof SUPPORTED_RESOURCE_TYPES)[number];

/** Interactions the REST API offers on every supported type (FHIR R4 http.html names). */
export const TYPE_INTERACTIONS = ['create', 'read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type'] as const;

export function isSupportedResourceType(type: string): type is SupportedResourceType {
  return (SUPPORTED_RESOURCE_TYPES as readonly string[]).includes(type);
}
