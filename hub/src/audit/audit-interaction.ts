/** What an API request did, read off its method and path (relative to /fhir). */
export interface AuditedInteraction {
  /** FHIR restful interaction code (http://hl7.org/fhir/restful-interaction). */
  interaction: string;
  /** AuditEvent.action: C(reate), R(ead), U(pdate), D(elete), E(xecute). */
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  /** The resource acted on, when the request names one. */
  entity: string | undefined;
  resourceType: string | undefined;
}

/** Maps a FHIR REST request to its interaction (FHIR R4 http.html); undefined for non-FHIR paths. */
export function auditedInteraction(method: string, path: string): AuditedInteraction | undefined {
  const [type, second, third, fourth] = path.split('/').filter(Boolean);
  const instance = type && second && !second.startsWith('_') ? `${type}/${second}` : undefined;
  if (!type) return method === 'POST' ? { interaction: 'transaction', action: 'E', entity: undefined, resourceType: undefined } : undefined;
  // System-level operations (POST [base]/$process-message).
  if (type.startsWith('$')) return { interaction: 'operation', action: 'E', entity: undefined, resourceType: undefined };
  if (type === 'metadata') return { interaction: 'capabilities', action: 'R', entity: undefined, resourceType: undefined };
  if (second === '_search' || (!second && method === 'GET')) return { interaction: 'search-type', action: 'E', entity: undefined, resourceType: type };
  if (second?.startsWith('$')) return { interaction: 'operation', action: 'E', entity: undefined, resourceType: type };
  if (second === '_history') return { interaction: 'history-type', action: 'R', entity: undefined, resourceType: type };
  if (third === '_history') {
    return fourth
      ? { interaction: 'vread', action: 'R', entity: instance, resourceType: type }
      : { interaction: 'history-instance', action: 'R', entity: instance, resourceType: type };
  }
  switch (method) {
    case 'GET':
      return { interaction: 'read', action: 'R', entity: instance, resourceType: type };
    case 'POST':
      return { interaction: 'create', action: 'C', entity: undefined, resourceType: type };
    case 'PUT':
      return { interaction: 'update', action: 'U', entity: instance, resourceType: type };
    case 'PATCH':
      return { interaction: 'patch', action: 'U', entity: instance, resourceType: type };
    case 'DELETE':
      return { interaction: 'delete', action: 'D', entity: instance, resourceType: type };
    default:
      return undefined;
  }
}
