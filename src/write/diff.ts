/** Unified diffs of a destination against what would be written (`--diff`), via the `diff` package. */

export async function unifiedDiff(dest: string, previous: string | null, next: string): Promise<string> {
  // Imported on first use: most passes print no diff, and the package is a cold start's share.
  const { createTwoFilesPatch } = await import("diff");
  return createTwoFilesPatch(previous === null ? "/dev/null" : dest, dest, previous ?? "", next, "", "", { context: 3 });
}

/** Colour a unified diff for a terminal: additions green, removals red, hunk headers cyan. */
export function colourDiff(diff: string): string {
  return diff
    .split("\n")
    .map((line) => {
      if (line.startsWith("+++") || line.startsWith("---")) return `\x1b[1m${line}\x1b[0m`;
      if (line.startsWith("+")) return `\x1b[32m${line}\x1b[0m`;
      if (line.startsWith("-")) return `\x1b[31m${line}\x1b[0m`;
      if (line.startsWith("@@")) return `\x1b[36m${line}\x1b[0m`;
      return line;
    })
    .join("\n");
}
