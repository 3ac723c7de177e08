// The README's exit-status table is every status perch exits with: the table against EXIT, EXIT as
// the only way a status is chosen (no literal statuses, one process.exit), and --help's summary line.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { usage } from "../../src/cli/argv.js";
import { EXIT, EXIT_SUMMARY } from "../../src/cli/exit.js";

const REPO = path.resolve(import.meta.dirname, "../..");

/** The status column of README.md's "### Exit status" table. */
async function documentedStatuses(): Promise<number[]> {
  const readme = await readFile(path.join(REPO, "README.md"), "utf8");
  const section = /^### Exit status\n([\s\S]*?)(?=^#)/m.exec(readme)?.[1];
  if (section === undefined) throw new Error('README.md has no "### Exit status" section');
  return [...section.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".ts")).map((e) => path.join(e.parentPath, e.name));
}

describe("exit statuses", () => {
  it("README's table lists exactly the statuses in EXIT", async () => {
    expect(await documentedStatuses()).toEqual(Object.values(EXIT).sort((a, b) => a - b));
  });

  it("every status the code returns is an EXIT constant, and only the entry point exits", async () => {
    const exits: string[] = [];
    const literals: string[] = [];
    for (const file of await sourceFiles(path.join(REPO, "src"))) {
      const text = await readFile(file, "utf8");
      const name = path.relative(REPO, file);
      for (const m of text.matchAll(/process\.exit(?:Code)?\b[^;\n]*/g)) exits.push(`${name}: ${m[0]}`);
      // A command's status is returned to main: `return 1` would be a status outside EXIT.
      if (name.startsWith("src/cli/")) for (const m of text.matchAll(/\breturn -?\d+;/g)) literals.push(`${name}: ${m[0]}`);
    }
    expect(exits).toEqual(["src/cli/entry.ts: process.exit(code))"]);
    expect(literals).toEqual([]);
  });

  it("--help sums up every status", () => {
    const line = usage().split("\n").at(-1);
    expect(line).toBe(`exit status: ${Object.entries(EXIT).map(([k, v]) => `${v} ${EXIT_SUMMARY[k as keyof typeof EXIT]}`).join("; ")}`);
    expect(usage("render").split("\n").at(-1)).toBe(line);
  });
});
