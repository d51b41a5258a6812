import type { OperationOutcomeIssue } from 'fhir/r4.js';

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

  const where = (at: number): { line: number; column: number } => {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at && i < text.length; i += 1) {
      if (text.charCodeAt(i) === 10) {
        line += 1;
        lineStart = i + 1;
      }
    }
    return { line, column: at - lineStart + 1 };
  };
  const report = (at: number, path: string, message: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push({ message, path, ...where(at) });
  };
  const full = () => problems.length >= MAX_PROBLEMS;

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
        value += text.slice(pos, pos + 2);
        pos += 2;
        continue;
      }
      if (char === '\n') break;
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

  const readValue = (path: string): void => {
    skipSpaceAndComments();
    if (full() || pos >= text.length) {
      report(pos, path, 'The JSON ends where a value was expected');
      return;
    }
    const char = text[pos]!;
    if (char === '{') readObject(path);
    else if (char === '[') readArray(path);
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

  readValue(rootName);
  skipSpaceAndComments();
  flushComments(rootName);
  if (pos < text.length && !full()) report(pos, rootName, 'There is more text after the end of the JSON');
  return problems;
}

/** The problems as OperationOutcome issues: the element as `expression`, line and column as `location`. */
export function jsonSyntaxIssues(text: string, parserMessage: string): OperationOutcomeIssue[] {
  const problems = diagnoseJsonSyntax(text);
  if (problems.length === 0) return [{ severity: 'error', code: 'structure', diagnostics: `the body is not valid JSON: ${parserMessage}` }];
  return problems.map(({ message, line, column, path }) => ({
    severity: 'error',
    code: 'structure',
    diagnostics: `the body is not valid JSON: line ${line}, column ${column}: ${message}`,
    expression: [path],
    location: [`line ${line}, column ${column}`],
  }));
}
