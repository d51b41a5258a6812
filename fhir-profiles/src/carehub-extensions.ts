import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { StructureDefinition } from 'fhir/r4.js';

const extensionsDir = fileURLToPath(new URL('../extensions/', import.meta.url));
let definitions: StructureDefinition[] | undefined;

/**
 * The extensions CareHub itself puts on resources (the Task's Matrix delivery, a document's
 * SHA-256), as StructureDefinitions, so the hub's validator knows them like FHIR's own. Read once.
 */
export function carehubExtensionDefinitions(): StructureDefinition[] {
  definitions ??= readdirSync(extensionsDir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => JSON.parse(readFileSync(extensionsDir + file, 'utf8')) as StructureDefinition);
  return definitions;
}
