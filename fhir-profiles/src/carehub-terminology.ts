import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CodeSystem, ValueSet } from 'fhir/r4.js';

const terminologyDir = fileURLToPath(new URL('../terminology/', import.meta.url));
let resources: Array<CodeSystem | ValueSet> | undefined;

/**
 * CareHub's own code systems and value sets (fhir-profiles/terminology: Organization kinds,
 * the Matrix connection type, the referral Task's business status), so the hub's validator
 * checks their codes like FHIR's own rather than calling them "not checked". Read once.
 */
export function carehubTerminology(): ReadonlyArray<CodeSystem | ValueSet> {
  resources ??= readdirSync(terminologyDir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => JSON.parse(readFileSync(terminologyDir + file, 'utf8')) as CodeSystem | ValueSet);
  return resources;
}
