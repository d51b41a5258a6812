import type { ElementDefinition, StructureDefinition } from 'fhir/r4.js';

/**
 * Builds a profile's snapshot from its base definition's snapshot and its differential: each
 * differential element is laid over the base element with the same id (cardinality, fixed and
 * pattern values, extra constraints). That covers constraint profiles without slicing, which
 * is all CareHub's profiles use; a differential element the base does not have is refused
 * rather than guessed at. (No Java validator or SUSHI can be fetched here to make snapshots.)
 */
export function snapshotFromDifferential(profile: StructureDefinition, base: StructureDefinition): StructureDefinition {
  const baseElements = base.snapshot?.element ?? [];
  const differential = profile.differential?.element ?? [];
  const known = new Set(baseElements.map((e) => e.id));
  const unknown = differential.filter((d) => !known.has(d.id));
  if (unknown.length > 0) {
    throw new Error(`${profile.url}: differential elements not in ${base.url}: ${unknown.map((d) => d.id).join(', ')} (slicing is not supported)`);
  }
  const element: ElementDefinition[] = baseElements.map((baseElement) => {
    const change = differential.find((d) => d.id === baseElement.id);
    if (!change) return baseElement;
    return { ...baseElement, ...change, constraint: [...(baseElement.constraint ?? []), ...(change.constraint ?? [])] };
  });
  return { ...profile, snapshot: { element } };
}
