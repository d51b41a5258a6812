// The fhir-profiles front door: CareHub's own profiles, extensions and terminology, and the
// validator that applies them. Other packages import '@carehub/fhir-profiles', never a file under src/.

export { CAREHUB_CANONICAL, carehubCodeSystemUrl, carehubStructureDefinitionUrl } from './carehub-canonical.js';
export { CAREHUB_PROFILES, carehubProfiles, profileIssues, validateAgainstProfile } from './carehub-profiles.js';
export { carehubExtensionDefinitions } from './carehub-extensions.js';
export { carehubTerminology } from './carehub-terminology.js';
