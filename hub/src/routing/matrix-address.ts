import type { Endpoint } from 'fhir/r4.js';
import { carehubCodeSystemUrl } from '@carehub/fhir-profiles';

/** CareHub's code for an Endpoint reached over Matrix (connectionType). */
export const CAREHUB_ENDPOINT_CONNECTION_SYSTEM = carehubCodeSystemUrl('endpoint-connection-type');
export const MATRIX_CONNECTION_CODE = 'matrix';
/** gematik's TI-Messenger directory marks its Matrix endpoints with connectionType "tim". */
const TIM_CONNECTION_CODE = 'tim';

const MATRIX_USER_ID = /^@[a-z0-9._=/+-]+:[A-Za-z0-9.-]+(:\d+)?$/;

/**
 * The Matrix user ID in an Endpoint address. Accepts the matrix: URI form (MSC2312,
 * "matrix:u/alice:example.org", also seen as "matrix:u/@alice:example.org") and a bare
 * "@alice:example.org", as older TI-Messenger directory data has it.
 */
export function parseMatrixAddress(address: string): string | undefined {
  let candidate = address.trim();
  if (candidate.startsWith('matrix:u/')) {
    candidate = decodeURIComponent(candidate.slice('matrix:u/'.length).split(/[?#]/)[0]!);
    if (!candidate.startsWith('@')) candidate = `@${candidate}`;
  }
  return MATRIX_USER_ID.test(candidate) ? candidate : undefined;
}

/** The Matrix user an Endpoint reaches, if it is an active Matrix endpoint. */
export function matrixUserOfEndpoint(endpoint: Endpoint): string | undefined {
  if (endpoint.status !== 'active') return undefined;
  const code = endpoint.connectionType.code;
  if (code !== MATRIX_CONNECTION_CODE && code !== TIM_CONNECTION_CODE) return undefined;
  return endpoint.address ? parseMatrixAddress(endpoint.address) : undefined;
}
