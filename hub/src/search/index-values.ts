import { evalFhirPath } from '@medplum/core';
import type { Resource } from 'fhir/r4.js';
import { parseReference } from '../fhir/references.js';
import { indexedParameters } from './search-parameters.js';

export interface TokenValue {
  code: string;
  system: string | null;
  value: string;
}
export interface StringValue {
  code: string;
  normalized: string;
  exact: string;
}
export interface ReferenceValue {
  code: string;
  targetType: string;
  targetId: string;
}
export interface IndexValues {
  tokens: TokenValue[];
  strings: StringValue[];
  references: ReferenceValue[];
}

/** Lower case without accents: "Lindegården" matches "lindegarden" (FHIR R4 search.html#string). */
export function normalizeForSearch(text: string): string {
  return text.normalize('NFD').replace(/\p{Diacritic}/gu, '').toLowerCase();
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function tokensOf(value: unknown): Array<{ system: string | null; value: string }> {
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return [{ system: null, value: String(value) }];
  if (!isObject(value)) return [];
  if (Array.isArray(value['coding'])) return (value['coding'] as unknown[]).flatMap(tokensOf); // CodeableConcept
  const code = value['code'] ?? value['value']; // Coding, Identifier, ContactPoint
  if (typeof code !== 'string') return [];
  return [{ system: typeof value['system'] === 'string' ? value['system'] : null, value: code }];
}

const STRING_PARTS = ['text', 'family', 'given', 'prefix', 'suffix', 'line', 'city', 'district', 'state', 'postalCode', 'country'];

function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (!isObject(value)) return [];
  // HumanName and Address: every part is searchable on its own.
  return STRING_PARTS.flatMap((part) => {
    const v = value[part];
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
  });
}

function referencesOf(value: unknown): Array<{ targetType: string; targetId: string }> {
  const reference = isObject(value) && typeof value['reference'] === 'string' ? parseReference(value['reference']) : undefined;
  return reference ? [{ targetType: reference.type, targetId: reference.id }] : [];
}

/** Every value a resource carries for each of its type's indexed search parameters. */
export function extractIndexValues(resource: Resource): IndexValues {
  const result: IndexValues = { tokens: [], strings: [], references: [] };
  for (const parameter of indexedParameters(resource.resourceType).values()) {
    const values = evalFhirPath(parameter.compiled, resource);
    for (const value of values) {
      if (parameter.kind === 'token') for (const t of tokensOf(value)) result.tokens.push({ code: parameter.code, ...t });
      if (parameter.kind === 'string') {
        for (const s of stringsOf(value)) result.strings.push({ code: parameter.code, normalized: normalizeForSearch(s), exact: s });
      }
      if (parameter.kind === 'reference') for (const r of referencesOf(value)) result.references.push({ code: parameter.code, ...r });
    }
  }
  return result;
}
