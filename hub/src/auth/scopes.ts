/** An interaction a scope can allow (FHIR R4 restful interactions, grouped as SMART does). */
export type ScopedInteraction = 'read' | 'search' | 'create' | 'update' | 'delete';

interface ParsedScope {
  resourceType: string; // or "*"
  allowed: Set<ScopedInteraction>;
}

const V1: Record<string, ScopedInteraction[]> = {
  read: ['read', 'search'],
  write: ['create', 'update', 'delete'],
  '*': ['read', 'search', 'create', 'update', 'delete'],
};
const V2_LETTERS: Record<string, ScopedInteraction> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };

/**
 * Parses `system/<Type|*>.<read|write|*>` (SMART v1) and `system/<Type|*>.<cruds>` (SMART v2,
 * letters in that order, e.g. `rs`, `cud`). Other scopes (openid, patient/…, user/…) are not
 * for backend services and are dropped.
 */
export function parseScope(scope: string): ParsedScope | undefined {
  const match = scope.match(/^system\/([A-Za-z]+|\*)\.([a-z*]+)$/);
  if (!match) return undefined;
  const [, resourceType, permission] = match as unknown as [string, string, string];
  if (V1[permission]) return { resourceType, allowed: new Set(V1[permission]) };
  if (!/^c?r?u?d?s?$/.test(permission)) return undefined;
  return { resourceType, allowed: new Set([...permission].map((l) => V2_LETTERS[l]!)) };
}

/** Whether any of the granted scopes allows `interaction` on `resourceType`. */
export function scopeAllows(scopes: string[], resourceType: string, interaction: ScopedInteraction): boolean {
  return scopes.some((s) => {
    const parsed = parseScope(s);
    return parsed !== undefined && (parsed.resourceType === '*' || parsed.resourceType === resourceType) && parsed.allowed.has(interaction);
  });
}

/** Requested scopes narrowed to what the client may have: each requested scope must be covered by an allowed one. */
export function grantScopes(requested: string[], allowed: string[]): string[] {
  return requested.filter((scope) => {
    const wanted = parseScope(scope);
    if (!wanted) return false;
    return [...wanted.allowed].every((interaction) =>
      wanted.resourceType === '*'
        ? allowed.some((a) => parseScope(a)?.resourceType === '*' && parseScope(a)!.allowed.has(interaction))
        : scopeAllows(allowed, wanted.resourceType, interaction),
    );
  });
}
