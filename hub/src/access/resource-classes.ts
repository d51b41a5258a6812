/**
 * The three kinds of data the access policy tells apart (docs/access-policy.md):
 * - the provider directory, which every network member reads;
 * - the audit trail, which only auditors read;
 * - everything else — patient data and each organisation's own records (Subscriptions) — which
 *   an organisation reads only where it is a party.
 */
export const DIRECTORY_TYPES: ReadonlySet<string> = new Set(['Organization', 'Practitioner', 'PractitionerRole', 'HealthcareService', 'Location', 'Endpoint']);
export const AUDIT_TYPES: ReadonlySet<string> = new Set(['AuditEvent']);
/**
 * Resources that make organisations parties: a Task (its requester and owner) and a CareTeam
 * (its participants). What they are about, and what is about them, is shared with those parties.
 */
export const ANCHOR_TYPES: ReadonlySet<string> = new Set(['Task', 'CareTeam']);

export const isDirectoryType = (type: string) => DIRECTORY_TYPES.has(type);
export const isAuditType = (type: string) => AUDIT_TYPES.has(type);
/** Read only by the organisations that are parties to it. */
export const isPartyData = (type: string) => !DIRECTORY_TYPES.has(type) && !AUDIT_TYPES.has(type);
