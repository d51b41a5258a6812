import type { CapabilityStatement } from 'fhir/r4.js';
import { SUPPORTED_RESOURCE_TYPES, TYPE_INTERACTIONS } from '../fhir/supported-resources.js';

/** The CapabilityStatement, derived from the same lists that decide what the API accepts. */
export function capabilityStatement(publicBaseUrl: string, version: string): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'CareHub', version },
    implementation: { description: 'CareHub FHIR API', url: `${publicBaseUrl}/fhir` },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        resource: SUPPORTED_RESOURCE_TYPES.map((type) => ({
          type,
          interaction: TYPE_INTERACTIONS.map((code) => ({ code })),
          versioning: 'versioned-update',
          readHistory: true,
          updateCreate: true,
          conditionalDelete: 'not-supported',
        })),
        interaction: [{ code: 'transaction' }],
      },
    ],
  };
}
