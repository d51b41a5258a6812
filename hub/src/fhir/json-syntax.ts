import type { OperationOutcomeIssue } from 'fhir/r4.js';
import { JSON_LIMITS } from './json-limits.js';

/** One problem in a text that is not JSON: what, where in the text, and at which element. */
export interface JsonSyntaxProblem {
  message: string;
  line: number;
  column: number;
  /** The element it is in, as HL7's validator names it (`Patient.name[0]`). */
  path: string;
}

/** Problems reported at most: past them the text is too broken to say more that helps. */
const MAX_PROBLEMS = 20;

/**
 * Reads a text that `JSON.parse` refused, as far as it can, and says every problem it meets
 * with line, column and the element it is in, like HL7's validator does: a missing or extra
 * comma, a comment, a missing colon, an unclosed object. It recovers past each problem (a
 * missing comma is taken as there, an extra one is skipped), so one answer lists them all.
 * Only runs on refused bodies, so well-formed requests never pay for it; its work is linear in
 * the text, which the body limit bounds.
 */
export function diagnoseJsonSyntax(text: string): JsonSyntaxProblem[] {
  const problems: JsonSyntaxProblem[] = [];
  const rootName = /"resourceType"\s*:\s*"([A-Za-z]+)"/.exec(text)?.[1] ?? 'Resource';
  let pos = 0;
  // Comments are reported at the element whose property follows them, as HL7's validator does.
  let pendingComments: number[] = [];

  const where = positionsIn(text);
  const report = (at: number, path: string, message: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push({ message, path, ...where(at) });
  };
  // Set when the text is too deep to read on: nothing after that point is reported.
  let stopped = false;
  const full = () => stopped || problems.length >= MAX_PROBLEMS;

  const skipSpaceAndComments = (): void => {
    for (;;) {
      while (pos < text.length && /\s/.test(text[pos]!)) pos += 1;
      if (text.startsWith('//', pos)) {
        pendingComments.push(pos);
        const end = text.indexOf('\n', pos);
        pos = end === -1 ? text.length : end + 1;
      } else if (text.startsWith('/*', pos)) {
        pendingComments.push(pos);
        const end = text.indexOf('*/', pos + 2);
        pos = end === -1 ? text.length : end + 2;
      } else {
        return;
      }
    }
  };
  const flushComments = (path: string): void => {
    for (const at of pendingComments) report(at, path, 'Comments are not allowed in JSON');
    pendingComments = [];
  };

  const readString = (path: string): string | undefined => {
    const start = pos;
    pos += 1;
    let value = '';
    while (pos < text.length) {
      const char = text[pos]!;
      if (char === '"') {
        pos += 1;
        return value;
      }
      if (char === '\\') {
        const escape = /^\\(["\\/bfnrt]|u[0-9A-Fa-f]{4})/.exec(text.slice(pos, pos + 6));
        if (!escape) report(pos, path, `'${text.slice(pos, pos + 2)}' is not a JSON escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)`);
        value += text.slice(pos, pos + (escape?.[0].length ?? 2));
        pos += escape?.[0].length ?? 2;
        continue;
      }
      if (char === '\n') break;
      if (char < ' ') report(pos, path, 'A control character must be escaped in a JSON string');
      value += char;
      pos += 1;
    }
    report(start, path, 'A string is not closed with "');
    return undefined;
  };

  const readLiteral = (path: string): void => {
    const start = pos;
    while (pos < text.length && !/[\s,\]}:]/.test(text[pos]!)) pos += 1;
    const literal = text.slice(start, pos);
    if (!/^(true|false|null|-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)$/.test(literal)) {
      report(start, path, literal === '' ? `Expected a value, found '${text[pos] ?? 'the end'}'` : `'${literal.slice(0, 40)}' is not a JSON value (strings need quotes)`);
      // A stray colon would stop the reader where it stands; the containers handle , ] and }.
      if (literal === '' && text[pos] === ':') pos += 1;
    }
  };

  const childPath = (path: string, key: string): string => (key === 'resourceType' ? path : `${path}.${key.startsWith('_') ? key.slice(1) : key}`);

  let depth = 0;
  const readValue = (path: string): void => {
    skipSpaceAndComments();
    if (full()) return;
    if (pos >= text.length) {
      report(pos, path, 'The JSON ends where a value was expected');
      return;
    }
    const char = text[pos]!;
    if (char === '{' || char === '[') {
      // The hub refuses deeper JSON anyway (json-limits.ts); this reader stops there too.
      if (depth >= JSON_LIMITS.maxDepth) {
        report(pos, path, `objects and arrays nested more than ${JSON_LIMITS.maxDepth} levels deep (this server's limit)`);
        stopped = true;
        return;
      }
      depth += 1;
      if (char === '{') readObject(path);
      else readArray(path);
      depth -= 1;
    }
    else if (char === '"') readString(path);
    else readLiteral(path);
  };

  function readObject(path: string): void {
    pos += 1;
    let expectingProperty = true;
    for (;;) {
      skipSpaceAndComments();
      if (full()) return;
      if (pos >= text.length) {
        report(pos, path, 'The Object is not closed with }');
        return;
      }
      const char = text[pos]!;
      if (char === '}') {
        pos += 1;
        return;
      }
      if (char === ',') {
        report(pos, path, expectingProperty ? 'There is an extra comma in the Object in the JSON' : 'There is an extra comma at the end of the Object in the JSON');
        pos += 1;
        continue;
      }
      if (char !== '"') {
        report(pos, path, `Expected a property name in quotes, found '${char}'`);
        while (pos < text.length && !/[,}]/.test(text[pos]!)) pos += 1;
        continue;
      }
      if (!expectingProperty) report(pos, path, 'A Comma is missing in the JSON');
      const key = readString(path);
      if (key === undefined) return;
      flushComments(childPath(path, key));
      skipSpaceAndComments();
      if (text[pos] === ':') pos += 1;
      else report(pos, childPath(path, key), `A colon is missing after the property name '${key}'`);
      readValue(childPath(path, key));
      skipSpaceAndComments();
      if (text[pos] === ',') {
        const comma = pos;
        pos += 1;
        skipSpaceAndComments();
        if (text[pos] === '}') report(comma, path, 'There is an extra comma at the end of the Object in the JSON');
        expectingProperty = true;
      } else {
        expectingProperty = false;
      }
    }
  }

  function readArray(path: string): void {
    pos += 1;
    let index = 0;
    let expectingItem = true;
    for (;;) {
      skipSpaceAndComments();
      if (full()) return;
      if (pos >= text.length) {
        report(pos, path, 'The Array is not closed with ]');
        return;
      }
      const char = text[pos]!;
      if (char === ']') {
        pos += 1;
        return;
      }
      if (char === ',') {
        report(pos, path, 'There is an extra comma in the Array in the JSON');
        pos += 1;
        continue;
      }
      if (char === '}') {
        report(pos, path, 'The Array is closed with } instead of ]');
        pos += 1;
        return;
      }
      if (!expectingItem) report(pos, path, 'A Comma is missing in the JSON');
      readValue(`${path}[${index}]`);
      index += 1;
      skipSpaceAndComments();
      if (text[pos] === ',') {
        const comma = pos;
        pos += 1;
        skipSpaceAndComments();
        if (text[pos] === ']') report(comma, path, 'There is an extra comma at the end of the Array in the JSON');
        expectingItem = true;
      } else {
        expectingItem = false;
      }
    }
  }

  skipSpaceAndComments();
  // What FHIR (a resource) and JSON Patch (an array) send; the body parser refuses the rest.
  if (pos < text.length && text[pos] !== '{' && text[pos] !== '[') report(pos, rootName, 'The body must be a JSON object (a FHIR resource) or an array (a JSON Patch)');
  readValue(rootName);
  if (stopped) return problems;
  skipSpaceAndComments();
  flushComments(rootName);
  if (pos < text.length && !full()) report(pos, rootName, 'There is more text after the end of the JSON');
  return problems;
}

/** Line and column (1-based) of offsets in a text; the line starts are found once, on first use. */
function positionsIn(text: string): (offset: number) => { line: number; column: number } {
  let lineStarts: number[] | undefined;
  return (offset) => {
    if (!lineStarts) {
      lineStarts = [0];
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
    }
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (lineStarts[middle]! <= offset) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, column: offset - lineStarts[low]! + 1 };
  };
}

/**
 * The problems as OperationOutcome issues: the element as `expression`, line and column as
 * `location` (FHIR R4 OperationOutcome.issue.location, for positions that are not FHIRPath).
 * Should this reader find nothing the parser refused, the parser's own message is given,
 * placed by the position it names.
 */
export function jsonSyntaxIssues(text: string, parserMessage: string): OperationOutcomeIssue[] {
  const problems: Array<{ message: string; line?: number; column?: number; path?: string }> = diagnoseJsonSyntax(text);
  if (problems.length === 0) {
    const offset = /at position (\d+)/.exec(parserMessage)?.[1];
    const message = parserMessage.replace(/,? ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
    problems.push({ message, ...(offset === undefined ? {} : positionsIn(text)(Number(offset))) });
  }
  return problems.map(({ message, line, column, path }) => {
    const where = line === undefined ? undefined : `line ${line}, column ${column}`;
    return {
      severity: 'error',
      code: 'structure',
      diagnostics: `the body is not valid JSON: ${where === undefined ? '' : `${where}: `}${message}`,
      ...(path === undefined ? {} : { expression: [path] }),
      ...(where === undefined ? {} : { location: [where] }),
    };
  });
}
