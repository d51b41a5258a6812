/**
 * Validation speed (validation issue, #13): validations per second of the hub's full validation
 * (`Validator.assertValidResource`: the StructureDefinition validator plus every check of
 * docs/validation.md) against the plain
 * StructureDefinition validator it builds on (Medplum's `validateResource`), on the same
 * resources in the same run: the R4 resources of HL7's validator test cases
 * (test/fixtures/hl7-validator-cases), those under 20 KB ("small"), each validated for a fixed time
 * under both. Target: the added checks cost at most 2× on small resources. Reports; never fails.
 *   npm run bench:validation [-- --seconds 3]
 */
import { readFileSync } from 'node:fs';
import { validateResource } from '@medplum/core';
import type { Resource } from 'fhir/r4.js';
import { Validator } from '../../hub/src/fhir/resource-validator.js';

const argument = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = argument('seconds', 3);
const SMALL_BYTES = 20 * 1024;
const casesDir = new URL('../../test/fixtures/hl7-validator-cases/', import.meta.url);

const resources: Resource[] = [];
for (const { file } of (JSON.parse(readFileSync(new URL('cases.json', casesDir), 'utf8')) as { cases: Array<{ file: string }> }).cases) {
  const text = readFileSync(new URL(file, casesDir), 'utf8');
  if (Buffer.byteLength(text) > SMALL_BYTES) continue;
  try {
    resources.push(JSON.parse(text) as Resource);
  } catch {
    // Malformed JSON never reaches a validator.
  }
}

/** Validations per second: every resource in turn, for SECONDS (a verdict either way counts). */
function rate(validate: (resource: Resource) => void): number {
  let done = 0;
  const until = performance.now() + SECONDS * 1000;
  const started = performance.now();
  while (performance.now() < until) {
    for (const resource of resources) {
      try {
        validate(resource);
      } catch {
        // An invalid resource is a verdict too.
      }
      done++;
    }
  }
  return done / ((performance.now() - started) / 1000);
}

// A hub's validator without operator-configured extensions (loads the FHIR definitions).
const validator = new Validator();
// Warm both up once, so neither pays for first-use work (indexes, value-set expansions) in the timing.
for (const resource of resources) {
  try {
    validateResource(resource);
    validator.assertValidResource(resource);
  } catch {
    // verdicts do not matter here
  }
}
const plainBefore = rate((r) => validateResource(r));
const hub = rate((r) => validator.assertValidResource(r));
const plainAfter = rate((r) => validateResource(r));
const plain = (plainBefore + plainAfter) / 2;
console.log(`Validation benchmark: ${resources.length} resources under ${SMALL_BYTES / 1024} KB (HL7's R4 validator cases), ${SECONDS} s each run\n`);
console.log(`run                                                   validations/s`);
console.log(`plain StructureDefinition validator (before)          ${plainBefore.toFixed(0).padStart(8)}`);
console.log(`hub's full validation                                 ${hub.toFixed(0).padStart(8)}`);
console.log(`plain StructureDefinition validator (after)           ${plainAfter.toFixed(0).padStart(8)}`);
const cost = plain / hub;
console.log(`\ncost of the hub's checks: ${cost.toFixed(2)}× the plain validator's time (target ≤ 2×) → ${cost <= 2 ? 'met' : 'NOT met'}`);
