/** "Did you mean" hints: the known names a misspelt one was probably meant to be. */

/** The "did you mean" of a misspelt name: the nearest candidate within `maxDistance` edits, if one is. */
export function closest(word: string, candidates: Iterable<string>, maxDistance = 2): string | undefined {
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** How far a misspelling of a name may be: short names are a few edits from anything, so one per two letters, at most two. */
export function typoDistance(word: string): number {
  return Math.min(2, Math.floor((word.length - 1) / 2));
}

/** Insertions, deletions, substitutions and swaps of neighbours (`vaule` is one edit from `value`). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    const prev = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = d;
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/** Known names within `maxEdits` edits (editDistance) of `word`, nearest first. */
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
