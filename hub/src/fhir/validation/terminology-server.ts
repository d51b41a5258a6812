import type { OperationOutcome, OperationOutcomeIssue, Parameters, Resource } from 'fhir/r4.js';
import { FhirError, issue } from '../operation-outcome.js';
import { codedValueIssues } from './codings.js';
import { uncheckedCodeIssues, uncheckedCodeOf, type UncheckedCode } from './unchecked-codes.js';

/** `validation.terminologyServer` of the hub's config. */
export interface TerminologyServerConfig {
  /** The server's FHIR base, e.g. https://tx.example.org/fhir. */
  url: string;
  timeoutMs: number;
}

/** What the server said of one code, or why it could not say. */
export type TerminologyAnswer = { kind: 'verdict'; result: boolean; message?: string } | { kind: 'unanswered'; reason: string };

interface Limits {
  /** Answers remembered (least recently used go first). */
  cacheEntries: number;
  cacheTtlMs: number;
  /** Questions in flight at once, for one resource. */
  parallel: number;
  /** Distinct codes asked for one resource; the others stay not checked. */
  codesPerResource: number;
  now: () => number;
}

const DEFAULT_LIMITS: Limits = { cacheEntries: 10_000, cacheTtlMs: 60 * 60 * 1000, parallel: 8, codesPerResource: 100, now: Date.now };

/** The FHIR R4 `$validate-code` question for a code: against its value set (required binding) or its code system. */
function validateCodeUrl(base: string, code: UncheckedCode): string {
  const query = new URLSearchParams();
  if (code.valueSet) {
    const [url, version] = code.valueSet.split('|');
    query.set('url', url!);
    if (version) query.set('valueSetVersion', version);
    query.set('system', code.system!);
  } else {
    query.set('url', code.system!);
  }
  query.set('code', code.code);
  // CodeSystem/$validate-code calls the code system's version `version`; ValueSet's, `systemVersion`.
  if (code.version) query.set(code.valueSet ? 'systemVersion' : 'version', code.version);
  return `${base.replace(/\/+$/, '')}/${code.valueSet ? 'ValueSet' : 'CodeSystem'}/$validate-code?${query.toString()}`;
}

function parameterOf(answer: Parameters, name: string) {
  return answer.parameter?.find((parameter) => parameter.name === name);
}

/**
 * A FHIR terminology server the operator named (`validation.terminologyServer`), asked with
 * `$validate-code` about the codes the hub cannot check itself. The display is not sent: a
 * wrong display is a warning here, and servers answer `false` for it, which would refuse.
 * Verdicts are remembered (bounded, for an hour); an outage or a refused question is not.
 */
export class TerminologyServer {
  private readonly answers = new Map<string, { expiresAt: number; answer: TerminologyAnswer & { kind: 'verdict' } }>();
  readonly limits: Limits;

  constructor(
    readonly config: TerminologyServerConfig,
    limits: Partial<Limits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** The server's verdict on a code that names its system (a code without one is not asked). */
  async validateCode(code: UncheckedCode): Promise<TerminologyAnswer> {
    if (code.system === undefined) return { kind: 'unanswered', reason: 'the code names no code system to ask about' };
    const url = validateCodeUrl(this.config.url, code);
    const now = this.limits.now();
    const cached = this.answers.get(url);
    if (cached && cached.expiresAt > now) {
      // A Map iterates in insertion order: set again, the entry is the most recently used.
      this.answers.delete(url);
      this.answers.set(url, cached);
      return cached.answer;
    }
    const answer = await this.ask(url);
    if (answer.kind === 'verdict') {
      this.answers.delete(url);
      if (this.answers.size >= this.limits.cacheEntries) this.answers.delete(this.answers.keys().next().value!);
      this.answers.set(url, { expiresAt: now + this.limits.cacheTtlMs, answer });
    }
    return answer;
  }

  /** How many verdicts are remembered (for tests of the bound). */
  get cachedAnswers(): number {
    return this.answers.size;
  }

  private async ask(url: string): Promise<TerminologyAnswer> {
    let body: Parameters;
    try {
      // The time limit covers the whole answer, its body too.
      const response = await fetch(url, { headers: { accept: 'application/fhir+json' }, signal: AbortSignal.timeout(this.config.timeoutMs) });
      // 4xx too: a server that does not know the code system says nothing about the code.
      if (!response.ok) {
        await response.body?.cancel();
        return { kind: 'unanswered', reason: `it answered ${response.status}` };
      }
      body = (await response.json()) as Parameters;
    } catch (error) {
      const { name, message } = error as Error;
      if (name === 'TimeoutError') return { kind: 'unanswered', reason: `no answer within ${this.config.timeoutMs} ms` };
      if (name === 'SyntaxError') return { kind: 'unanswered', reason: 'its answer was not JSON' };
      return { kind: 'unanswered', reason: `unreachable (${message})` };
    }
    const result = body?.resourceType === 'Parameters' ? parameterOf(body, 'result')?.valueBoolean : undefined;
    if (typeof result !== 'boolean') return { kind: 'unanswered', reason: 'its answer was not a Parameters with a boolean result' };
    const message = parameterOf(body, 'message')?.valueString;
    // A server that does not know the code system (CareHub's own, a regional one) answers false
    // with a not-found issue (tx.fhir.org, FHIR R5's `issues`): that is no verdict on the code.
    const issues = (parameterOf(body, 'issues')?.resource as OperationOutcome | undefined)?.issue ?? [];
    if (!result && issues.some((i) => i.code === 'not-found')) return { kind: 'unanswered', reason: `it does not know the code system${message ? ` (${message})` : ''}` };
    return { kind: 'verdict', result, ...(message === undefined ? {} : { message }) };
  }
}

/** Runs `work` on each item with at most `parallel` in flight. */
async function eachAtMost<T>(items: readonly T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
}

/** Codes asked about once per resource, however often they occur in it. */
function questionKey(code: UncheckedCode): string {
  return JSON.stringify([code.system, code.version, code.code, code.valueSet]);
}

function notAsked(original: OperationOutcomeIssue, why: string): OperationOutcomeIssue {
  return { ...original, diagnostics: `${original.diagnostics}; ${why}` };
}

/**
 * The step after validation (validation is synchronous; this one waits on the network): the
 * codes validation of `resource` left not checked are asked of the terminology server. A code
 * it calls invalid refuses the resource (400, at the coding, with the server's message); one it
 * calls valid is checked, and its information issue goes; one it could not answer stays not
 * checked, saying so: an outage of the server does not stop writes. Without a server, the
 * not-checked issues are returned as they are.
 */
export async function assertCodesKnownToTerminologyServer(resource: Resource, server: TerminologyServer | undefined): Promise<OperationOutcomeIssue[]> {
  // A validated resource's issues are kept; a copy of one (a PUT's body given its URL id) is walked again.
  const unchecked = uncheckedCodeIssues(resource) ?? codedValueIssues(resource).filter((i) => uncheckedCodeOf(i) !== undefined);
  if (!server || unchecked.length === 0) return [...unchecked];
  const questions = new Map<string, UncheckedCode>();
  for (const i of unchecked) {
    const code = uncheckedCodeOf(i)!;
    questions.set(questionKey(code), code);
  }
  const { codesPerResource, parallel } = server.limits;
  const asked = [...questions.keys()].slice(0, codesPerResource);
  const answers = new Map<string, TerminologyAnswer>();
  await eachAtMost(asked, parallel, async (key) => {
    answers.set(key, await server.validateCode(questions.get(key)!));
  });
  const errors: OperationOutcomeIssue[] = [];
  const stillUnchecked: OperationOutcomeIssue[] = [];
  for (const i of unchecked) {
    const code = uncheckedCodeOf(i)!;
    const answer = answers.get(questionKey(code));
    if (!answer) stillUnchecked.push(notAsked(i, `not asked of the terminology server: at most ${codesPerResource} codes of one resource are`));
    else if (answer.kind === 'unanswered') stillUnchecked.push(notAsked(i, `the terminology server ${server.config.url} could not be asked: ${answer.reason}`));
    else if (!answer.result) {
      const against = code.valueSet ? `the value set ${code.valueSet}` : `the code system ${code.system}`;
      errors.push(issue('code-invalid', answer.message ?? `the terminology server ${server.config.url} says the code ${JSON.stringify(code.code)} is not valid in ${against}`, [code.path]));
    }
  }
  if (errors.length > 0) throw new FhirError(400, errors);
  return stillUnchecked;
}
