import { FhirError, issue } from './operation-outcome.js';

/**
 * How much JSON the hub takes in one request, whatever its byte size: without these, a 2 MB
 * body of a million `extension` items kept the validator busy for 36 s and made an answer of
 * 386 MB, and deep nesting overflowed the stack.
 */
export interface JsonLimits {
  /** Objects and arrays nested inside each other; a FHIR resource needs a dozen or so. */
  maxDepth: number;
  /** Items of any one array; above a Bundle's MAX_BUNDLE_ENTRIES (5,000), so a full Bundle passes. */
  maxArrayItems: number;
  /** Values of every kind in the whole body: a 5,000-entry directory Bundle has about 100,000. */
  maxValues: number;
}

export const JSON_LIMITS: JsonLimits = { maxDepth: 64, maxArrayItems: 10_000, maxValues: 200_000 };

/**
 * Keys that name what every JavaScript object inherits. None is a FHIR element, and code that
 * copies or merges a resource could be steered by them ("__proto__" replaces a prototype).
 */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The element path of a violation in FHIRPath style: Patient.name[0].family. */
function expressionOf(root: string, segments: ReadonlyArray<string | number>): string {
  let path = root;
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) path += `.${segment}`;
    // Keys that are no FHIR name at all are shown escaped (never a raw NUL) and cut short.
    else path += `[${JSON.stringify(segment.length > 64 ? `${segment.slice(0, 64)}…` : segment)}]`;
  }
  return path;
}

/** Why a string or key is refused, if it is. */
function badText(text: string): string | undefined {
  // PostgreSQL's jsonb cannot hold U+0000 ("unsupported Unicode escape sequence").
  if (text.includes('\u0000')) return 'NUL character: text may not contain U+0000 (\\u0000)';
  // A \uD800–\uDFFF escape without its pair is no Unicode text; jsonb refuses it too.
  if (!text.isWellFormed()) return 'lone surrogate: text must be well-formed Unicode (a \\uD800–\\uDFFF escape without its pair)';
  return undefined;
}

/**
 * Walks a parsed JSON body once, depth first, and refuses it at the first value that breaks a
 * limit, so the walk itself costs at most `maxValues` steps. `root` starts the element path in
 * the refusal's `expression` (the resourceType, for a resource). Every refusal names the limit
 * in `diagnostics`: 413 for size limits, 400 for text that cannot be stored or an inherited key.
 */
export function assertJsonWithinLimits(value: unknown, root: string, limits: JsonLimits = JSON_LIMITS): void {
  const segments: Array<string | number> = [];
  let values = 0;
  const refuse = (status: number, code: 'too-costly' | 'invalid' | 'structure', diagnostics: string): never => {
    throw new FhirError(status, [issue(code, diagnostics, [expressionOf(root, segments)])]);
  };
  const visit = (node: unknown, depth: number): void => {
    values += 1;
    if (values > limits.maxValues) {
      refuse(413, 'too-costly', `JSON value limit: at most ${limits.maxValues} values (objects, arrays, strings, numbers, booleans, nulls) in one body`);
    }
    if (typeof node === 'string') {
      const problem = badText(node);
      if (problem) refuse(400, 'invalid', problem);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    if (depth > limits.maxDepth) refuse(413, 'too-costly', `JSON depth limit: objects and arrays nested at most ${limits.maxDepth} levels deep`);
    if (Array.isArray(node)) {
      if (node.length > limits.maxArrayItems) {
        segments.push(limits.maxArrayItems);
        refuse(413, 'too-costly', `JSON array limit: at most ${limits.maxArrayItems} items in one array (this one has ${node.length})`);
      }
      for (let index = 0; index < node.length; index++) {
        segments.push(index);
        visit(node[index], depth + 1);
        segments.pop();
      }
      return;
    }
    for (const key of Object.keys(node)) {
      segments.push(key);
      const problem = badText(key);
      if (problem) refuse(400, 'invalid', `${problem} (in a key)`);
      // Refused like any unknown element (the validator's "Invalid additional property").
      if (PROTOTYPE_KEYS.has(key)) refuse(400, 'structure', `unknown element ${JSON.stringify(key)}: not a FHIR element`);
      visit((node as Record<string, unknown>)[key], depth + 1);
      segments.pop();
    }
  };
  visit(value, 1);
}

/** The start of a body's element paths: its resourceType when it is a resource. */
export function jsonRootName(body: unknown): string {
  const type = typeof body === 'object' && body !== null ? (body as { resourceType?: unknown }).resourceType : undefined;
  return typeof type === 'string' && IDENTIFIER.test(type) ? type : 'body';
}

/**
 * The number of values in `value` (objects, arrays and primitives, as the value limit counts
 * them), counted no further than `budget`: anything larger answers budget + 1, so counting a
 * huge value costs no more than counting one that just fits.
 */
export function countJsonValues(value: unknown, budget: number): number {
  let count = 0;
  // Children still to count, one frame per open object or array: never more than is counted.
  const frames: Array<{ children: readonly unknown[]; next: number }> = [];
  let node: unknown = value;
  for (;;) {
    count += 1;
    if (count > budget) return budget + 1;
    if (typeof node === 'object' && node !== null) frames.push({ children: Array.isArray(node) ? node : Object.values(node), next: 0 });
    let frame = frames.at(-1);
    while (frame && frame.next >= frame.children.length) {
      frames.pop();
      frame = frames.at(-1);
    }
    if (!frame) return count;
    node = frame.children[frame.next++];
  }
}
