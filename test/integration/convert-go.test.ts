/**
 * `perch convert` is faithful: every template of a confd confdir (test/fixtures/convert/confd) is
 * rendered by Go's own text/template with confd's function map (test/go/confdrender, built here
 * from the standard library only) and, converted, by perch over the same keys; the outputs must be
 * byte-identical. Then the same for generated templates: every mix of text, whitespace, trim markers,
 * blocks, comments and variable assignments that standalone lines (Handlebars), trim markers (Go) and
 * the lack of assignment (Handlebars) treat differently.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO, runPerch } from "../helpers/confdir.js";
import { useTempDir } from "../helpers/temp-dir.js";

const CONFD = path.join(REPO, "test/fixtures/convert/confd");
const KEYS = path.join(CONFD, "keys.json");
const GO_SOURCE = path.join(REPO, "test/go/confdrender");
/** Go's build cache outlives the run: a rebuild of the unchanged program takes no compile. */
const GO_CACHE = path.join(tmpdir(), "perch-confdrender-go-cache");
const ENV = { NODENAME: "node-a", PERCH_UNSET_VARIABLE: "" };
const TEMPLATES = (await readdir(path.join(CONFD, "templates"))).filter((n) => n.endsWith(".tmpl")).sort();

/** The reference renderer, built once per file into `dir`. */
async function buildConfdrender(dir: string): Promise<string> {
  const binary = path.join(dir, "confdrender");
  // No network and no module downloads: the program uses the standard library only.
  const env = { ...process.env, GOFLAGS: "-mod=mod", GOPROXY: "off", GOCACHE: GO_CACHE, GOPATH: path.join(GO_CACHE, "gopath") };
  await execa("go", ["build", "-o", binary, "."], { cwd: GO_SOURCE, env });
  return binary;
}

/** Converts the confd confdir `confd` with `perch convert`, checks it with `perch check` and renders it with `perch render` under `root`. */
async function convertAndRender(confd: string, work: string): Promise<string> {
  const converted = path.join(work, "perch");
  const convert = await runPerch(["convert", confd, converted]);
  expect(convert.exitCode, convert.all).toBe(0);
  const check = await runPerch(["check", "--confdir", converted]);
  expect(check.exitCode, check.all).toBe(0);
  const root = path.join(work, "root");
  const render = await runPerch(["render", "--confdir", converted, "--backend", "file", "--keys", KEYS, "--root", root], { env: ENV });
  expect(render.exitCode, render.all).toBe(0);
  return root;
}

async function goRender(confdrender: string, template: string): Promise<string> {
  const go = await execa(confdrender, [KEYS, template], { env: { ...process.env, ...ENV }, stripFinalNewline: false });
  expect(go.stderr).toBe("");
  return go.stdout;
}

describe("perch convert against Go's text/template", () => {
  const work = useTempDir("perch-convert-go-", { perTest: false });
  let confdrender: string;
  let rendered: string;

  beforeAll(async () => {
    confdrender = await buildConfdrender(work.path);
    rendered = await convertAndRender(CONFD, work.path);
  }, 120_000);

  it("has a corpus covering every construct", () => {
    expect(TEMPLATES).toEqual(["basics.tmpl", "calico-style.tmpl", "conditions.tmpl", "confd-docs.tmpl", "defines.tmpl", "json.tmpl", "ranges.tmpl", "trim.tmpl"]);
  });

  it.each(TEMPLATES)("%s renders byte for byte as Go renders it", async (template) => {
    const go = await goRender(confdrender, path.join(CONFD, "templates", template));
    expect(go.length).toBeGreaterThan(0);
    const perch = await readFile(path.join(rendered, "out", template.replace(/\.tmpl$/, ".cfg")), "utf8");
    expect(perch).toBe(go);
  });
});

/** Text between actions: whitespace of every kind Go trims and Handlebars strips, and a backslash before an action. */
const text = fc.array(fc.constantFrom("", " ", "  ", "\t", "\n", "\n\n", " \n  ", "\n  ", "\r\n", "a", "b c", ";", "}", "{ ", "\\"), { maxLength: 4 }).map((parts) => parts.join(""));

/** An action's delimiters, each with or without its trim marker. */
function action(inner: string): fc.Arbitrary<string> {
  return fc.tuple(fc.boolean(), fc.boolean()).map(([left, right]) => `{{${left ? "- " : ""}${inner}${right ? " -" : ""}}}`);
}

const VALUES = ['getv "/app/name"', '"lit"', 'printf "%s-%d" "p" 7', "getv \"/nope\" \"default\"", "$name"];
const ASSIGNMENTS = ['$name = "m"', '$name = getv "/app/port"', "$name = printf \"%s+\" $name"];
const CONDITIONS = ['exists "/app/name"', 'exists "/nope"', "eq 1 2", 'getv "/app/empty"', "$name"];

/**
 * A template's top level and the if branches in it may assign `$name` (outside a range or with body,
 * where Handlebars has a faithful form); range and with bodies hold the other nodes.
 */
const { template: generated } = fc.letrec<{ template: string; top: string; topNode: string; nodes: string; node: string }>((tie) => {
  const list = (node: "topNode" | "node") => fc.array(fc.tuple(tie(node), text), { maxLength: 4 }).map((items) => items.map(([n, after]) => n + after).join(""));
  const ifBlock = (body: "top" | "nodes") =>
    fc.tuple(fc.constantFrom(...CONDITIONS).chain((c) => action(`if ${c}`)), tie(body), fc.option(fc.tuple(fc.constantFrom("else", 'else if exists "/app/port"').chain(action), tie(body))), action("end")).map(block);
  const loops = [
    fc.tuple(action('range $i, $kv := gets "/app/servers/*"'), tie("nodes"), fc.option(fc.tuple(action("else"), tie("nodes"))), action("end")).map(block),
    fc.tuple(action('with getv "/app/name"'), tie("nodes"), fc.option(fc.tuple(action("else"), tie("nodes"))), action("end")).map(block),
  ];
  const leaves = [fc.constantFrom(...VALUES).chain(action), action("/* comment */")];
  return {
    template: fc.tuple(text, tie("top")).map(([head, nodes]) => `{{$name := "n"}}${head}${nodes}`),
    top: list("topNode"),
    topNode: fc.oneof({ depthSize: "small", withCrossShrink: true }, ...leaves, fc.constantFrom(...ASSIGNMENTS).chain(action), ifBlock("top"), ...loops),
    nodes: list("node"),
    node: fc.oneof({ depthSize: "small", withCrossShrink: true }, ...leaves, ifBlock("nodes"), ...loops),
  };
});

function block([open, body, otherwise, end]: [string, string, [string, string] | null, string]): string {
  return `${open}${body}${otherwise === null ? "" : otherwise.join("")}${end}`;
}

describe("perch convert against Go's text/template, on generated templates", () => {
  const work = useTempDir("perch-convert-gen-", { perTest: false });
  const templates = fc.sample(generated, { seed: 20_261_207, numRuns: 150 });
  let confdrender: string;
  let rendered: string;

  beforeAll(async () => {
    const confd = path.join(work.path, "confd");
    await mkdir(path.join(confd, "conf.d"), { recursive: true });
    await mkdir(path.join(confd, "templates"));
    for (const [i, source] of templates.entries()) {
      await writeFile(path.join(confd, "templates", `gen${i}.tmpl`), source);
      await writeFile(path.join(confd, "conf.d", `gen${i}.toml`), `[template]\nsrc = "gen${i}.tmpl"\ndest = "/out/gen${i}.cfg"\nkeys = ["/"]\n`);
    }
    confdrender = await buildConfdrender(work.path);
    rendered = await convertAndRender(confd, work.path);
  }, 120_000);

  it("renders all 150 byte for byte as Go renders them", async () => {
    const differences: string[] = [];
    for (const [i, source] of templates.entries()) {
      const go = await goRender(confdrender, path.join(work.path, "confd", "templates", `gen${i}.tmpl`));
      const perch = await readFile(path.join(rendered, "out", `gen${i}.cfg`), "utf8");
      if (perch !== go) differences.push(`${JSON.stringify(source)}\n  Go:    ${JSON.stringify(go)}\n  perch: ${JSON.stringify(perch)}`);
    }
    expect(differences).toEqual([]);
  }, 60_000);
});

describe("perch convert against Go's text/template, where Go fails", () => {
  const work = useTempDir("perch-convert-fail-", { perTest: false });
  const failing: Record<string, string> = {
    "missing-key": 'before {{getv "/app/nope"}} after',
    "bad-json": '{{$d := json (getv "/app/name")}}{{$d.x}}',
    "missing-in-range": '{{range gets "/app/servers/*"}}{{getv (printf "%s/nope" .Key)}}{{end}}',
    "division-by-zero": "{{div 1 0}}",
  };
  let confdrender: string;
  let converted: string;

  beforeAll(async () => {
    const confd = path.join(work.path, "confd");
    await mkdir(path.join(confd, "conf.d"), { recursive: true });
    await mkdir(path.join(confd, "templates"));
    for (const [name, source] of Object.entries(failing)) {
      await writeFile(path.join(confd, "templates", `${name}.tmpl`), source);
      await writeFile(path.join(confd, "conf.d", `${name}.toml`), `[template]\nsrc = "${name}.tmpl"\ndest = "/out/${name}.cfg"\nkeys = ["/"]\n`);
    }
    confdrender = await buildConfdrender(work.path);
    converted = path.join(work.path, "perch");
    const convert = await runPerch(["convert", confd, converted]);
    expect(convert.exitCode, convert.all).toBe(0);
  }, 120_000);

  it.each(Object.keys(failing))("%s fails in perch as it fails in Go, and writes nothing", async (name) => {
    const go = await execa(confdrender, [KEYS, path.join(work.path, "confd", "templates", `${name}.tmpl`)], { reject: false, env: { ...process.env, ...ENV } });
    expect(go.exitCode).toBe(1);
    expect(go.stdout).toBe("");
    const root = path.join(work.path, `root-${name}`);
    const render = await runPerch(["render", "--confdir", converted, "--only", name, "--backend", "file", "--keys", KEYS, "--root", root], { env: ENV });
    expect(render.exitCode).toBe(1);
    expect(render.stdout).toMatch(new RegExp(`^render-failed +${name} `));
    await expect(readFile(path.join(root, "out", `${name}.cfg`))).rejects.toThrow(/ENOENT/);
  });
});
