// docs/templates.md cannot drift: every `<!-- example {...} -->` block is rendered and compared
// with the block after it, every helper has an example, and the worked example (its
// `<!-- file PATH -->` blocks) is loaded, checked and rendered as a confdir.
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Handlebars from "handlebars";
import { describe, expect, it } from "vitest";
import { runCheck } from "../../src/check/check.js";
import { lintTemplate } from "../../src/check/lint-template.js";
import { silentLogger } from "../../src/log/logger.js";
import { KeyIndex } from "../../src/mirror/key-index.js";
import { Mirror } from "../../src/mirror/mirror.js";
import { syncResources } from "../../src/sync/sync-resources.js";
import { loadResourceSet } from "../../src/resource/load-set.js";
import { readKeysFile } from "../../src/store/file-store.js";
import { builtinHelperNames, compileTemplate, helperTable } from "../../src/template/compile.js";
import { deprecatedFormatterNames } from "../../src/template/helpers/formatters.js";
import { REPO } from "../helpers/confdir.js";
import { Provenance } from "../../src/template/provenance.js";

const DOC = await readFile(path.join(REPO, "docs/templates.md"), "utf8");

interface Marked {
  marker: string;
  /** 1-based line of the marker, for failure messages. */
  line: number;
  blocks: string[];
}

/** Each `<!-- KIND ... -->` marker with the fenced blocks that follow it (up to the next marker or heading). */
function marked(kind: string): Marked[] {
  const out: Marked[] = [];
  const lines = DOC.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = new RegExp(`^<!-- ${kind}\\b(.*)-->$`).exec(lines[i] as string);
    if (!m) continue;
    const entry: Marked = { marker: (m[1] as string).trim(), line: i + 1, blocks: [] };
    for (let j = i + 1; j < lines.length && !/^(?:<!-- |#)/.test(lines[j] as string); j++) {
      if (!/^```/.test(lines[j] as string)) continue;
      const body: string[] = [];
      for (j++; j < lines.length && !/^```$/.test(lines[j] as string); j++) body.push(lines[j] as string);
      entry.blocks.push(body.join("\n"));
    }
    out.push(entry);
  }
  return out;
}

interface ExampleOptions {
  keys?: Record<string, string>;
  env?: Record<string, string>;
  /** The block after the template is the error message, not the output. */
  error?: boolean;
}

const examples = marked("example").map((m) => ({ ...m, options: (m.marker === "" ? {} : JSON.parse(m.marker)) as ExampleOptions }));

function render(template: string, options: ExampleOptions): string {
  const view = new KeyIndex();
  for (const [key, value] of Object.entries(options.keys ?? {})) view.set(key, value);
  const compiled = compileTemplate("example.hbs", "example.hbs", `${template}\n`);
  return compiled.render({ view, env: options.env ?? { NODENAME: "node-a" }, provenance: new Provenance() });
}

describe("docs/templates.md examples", () => {
  it("has examples", () => {
    expect(examples.length).toBeGreaterThan(20);
  });

  it.each(examples.map((e) => [e.line, e] as const))("the example at line %i renders as documented", (_line, example) => {
    expect(example.blocks).toHaveLength(2);
    const [template, expected] = example.blocks as [string, string];
    // An example of an error may be one perch check reports too; every other one checks clean.
    if (!example.options.error) expect(lintTemplate(Handlebars.parse(template), template)).toEqual({ problems: [], warnings: [] });
    if (example.options.error) {
      let message = "(it rendered)";
      try {
        render(template, example.options);
      } catch (err) {
        message = String(err);
      }
      expect(message).toBe(expected);
    } else {
      expect(render(template, example.options)).toBe(`${expected}\n`);
    }
  });

  it("shows every helper at work, and let and the built-ins", () => {
    const templates = examples.map((e) => e.blocks[0] ?? "").join("\n");
    const current = Object.keys(helperTable).filter((name) => !(name in deprecatedFormatterNames));
    const names = [...current, ...builtinHelperNames.filter((n) => n !== "lookup" && n !== "log")];
    const missing = names.filter((name) => !new RegExp(`(?:\\{\\{~?#?|\\()${name}[\\s)}~]`).test(templates));
    expect(missing).toEqual([]);
  });

  it("lists every helper in the reference tables", () => {
    const rows = DOC.split("\n").filter((line) => line.startsWith("| `"));
    const missing = Object.keys(helperTable).filter((name) => !rows.some((row) => new RegExp(`^\\|[^|]*\`${name}[ \`]`).test(row)));
    expect(missing).toEqual([]);
  });
});

describe("docs/templates.md worked example", () => {
  const files = marked("file").map((m) => ({ path: m.marker, content: `${m.blocks[0] ?? ""}\n` }));
  const outputs = marked("output").map((m) => ({ path: m.marker, content: `${m.blocks[0] ?? ""}\n` }));

  it("is a confdir that checks clean and renders the documented file", async () => {
    expect(files.map((f) => f.path).sort()).toEqual(["conf.d/bird_blackholes.toml", "keys.json", "templates/bird_blackholes.cfg.hbs"]);
    expect(outputs).toHaveLength(1);
    const dir = await mkdtemp(path.join(tmpdir(), "perch-doc-"));
    try {
      for (const f of files) {
        await mkdir(path.dirname(path.join(dir, f.path)), { recursive: true });
        await writeFile(path.join(dir, f.path), f.content);
      }
      const check = await runCheck({ confdir: dir, nodeName: "node-a" });
      expect(check.problems.map(String)).toEqual([]);
      const root = path.join(dir, "out");
      const resources = await loadResourceSet({ confdir: dir, nodeName: "node-a", root });
      const mirror = new Mirror(resources.map((r) => r.selection));
      const keys = await readKeysFile(path.join(dir, "keys.json"));
      mirror.replace([...keys].map(([key, value]) => ({ key, value })), 1);
      const report = await syncResources(resources, mirror, { noop: false, diff: false, env: { NODENAME: "node-a" }, logger: silentLogger, syncOnly: true, createDirs: true });
      expect(report.resources.map((r) => [r.outcome, r.error])).toEqual([["written", undefined]]);
      const [output] = outputs as [{ path: string; content: string }];
      expect(await readFile(path.join(root, output.path), "utf8")).toBe(output.content);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
