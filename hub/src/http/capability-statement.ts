import type { CapabilityStatement } from 'fhir/r4.js';
import { SUPPORTED_RESOURCE_TYPES, TYPE_INTERACTIONS } from '../fhir/supported-resources.js';
import { indexedParameters } from '../search/search-parameters.js';

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
          interaction: [...TYPE_INTERACTIONS, 'search-type' as const].map((code) => ({ code })),
          searchParam: [
            { name: '_id', type: 'token' as const },
            { name: '_lastUpdated', type: 'date' as const },
            ...[...indexedParameters(type).values()].map((p) => ({ name: p.code, type: p.kind })),
          ],
          operation: [{ name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' }],
          searchInclude: [...indexedParameters(type).values()].filter((p) => p.kind === 'reference').map((p) => `${type}:${p.code}`),
          versioning: 'versioned-update',
          readHistory: true,
          updateCreate: true,
          conditionalDelete: 'not-supported',
        })),
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
        operation: [{ name: 'process-message', definition: 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message' }],
      },
    ],
    messaging: [{ documentation: 'Synchronous $process-message: the carried resources are stored as one transaction; a repeated message (same Bundle.id and source endpoint) gets the first response.', supportedMessage: [] }],
  };
}
