/** "Did you mean" hints: the known names a misspelt one was probably meant to be. */

/** Known names within `maxEdits` edits (insert, delete, substitute) of `word`, nearest first. */
export function nearestNames(word: string, names: readonly string[], maxEdits = 2): string[] {
  return names
    .map((name) => ({ name, edits: editDistance(word, name) }))
    .filter(({ edits }) => edits <= maxEdits)
    .sort((a, b) => a.edits - b.edits)
    .map(({ name }) => name);
}

/**
 * " (did you mean --keys or --key-file?)" for a mistyped flag or command, "" when nothing is near:
 * the near names, then those it abbreviates (`key` → `key-file`), which edit distance alone misses.
 */
export function didYouMean(word: string, names: readonly string[], dashes: string, limit = 3): string {
  const abbreviated = word.length >= 2 ? names.filter((name) => name.startsWith(word)) : [];
  const near = [...new Set([...nearestNames(word, names), ...abbreviated])].filter((name) => name !== word).slice(0, limit);
  return near.length === 0 ? "" : ` (did you mean ${orList(near.map((name) => `${dashes}${name}`))}?)`;
}

/** "a", "a or b", "a, b or c". */
function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items.at(-1) as string}`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] as number;
}
