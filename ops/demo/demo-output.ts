/** How `npm run demo` prints its story: one `▶` line per step, then what was seen, indented. */
export const step = (text: string) => console.log(`\n▶ ${text}`);

/** A message as a client shows it, each line behind a bar, so it reads apart from the narration. */
export const quoted = (text: string, indent = '    ') =>
  text
    .split('\n')
    .map((line) => `${indent}│ ${line}`)
    .join('\n');
