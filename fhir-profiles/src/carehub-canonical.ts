/** Canonical base of CareHub's profiles, extensions, code systems and value sets: the one place it is spelled. */
export const CAREHUB_CANONICAL = 'http://carehub.example.org/fhir';

/** The url of one of CareHub's code systems (fhir-profiles/terminology). */
export const carehubCodeSystemUrl = (id: string) => `${CAREHUB_CANONICAL}/CodeSystem/${id}`;

/** The url of one of CareHub's StructureDefinitions: a profile (fhir-profiles/profiles) or an extension (fhir-profiles/extensions). */
export const carehubStructureDefinitionUrl = (id: string) => `${CAREHUB_CANONICAL}/StructureDefinition/${id}`;
