/**
 * The branches of a FHIRPath union at its top level (`Patient.name | Practitioner.name`), split
 * at `|` outside parentheses and quoted strings, trimmed. Search parameters' expressions are
 * such unions: the index reads each branch on its own, and the validator checks where each starts.
 */
export function fhirPathUnionBranches(expression: string): string[] {
  const branches: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === "'" && expression[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0 && c === '|') {
      branches.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  branches.push(expression.slice(start).trim());
  return branches;
}
