/**
 * `perch convert` is faithful: every template of a confd confdir (test/fixtures/convert/confd) is
 * rendered by Go's own text/template with confd's function map (test/go/confdrender, built here
 * from the standard library only) and, converted, by perch over the same keys; the outputs must be
 * byte-identical.
 */
import { readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
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

describe("perch convert against Go's text/template", () => {
  const work = useTempDir("perch-convert-go-", { perTest: false });
  let confdrender: string;
  let rendered: string;

  beforeAll(async () => {
    confdrender = path.join(work.path, "confdrender");
    // No network and no module downloads: the program uses the standard library only.
    const env = { ...process.env, GOFLAGS: "-mod=mod", GOPROXY: "off", GOCACHE: GO_CACHE, GOPATH: path.join(GO_CACHE, "gopath") };
    await execa("go", ["build", "-o", confdrender, "."], { cwd: GO_SOURCE, env });
    const converted = path.join(work.path, "perch");
    const convert = await runPerch(["convert", CONFD, converted]);
    expect(convert.exitCode, convert.all).toBe(0);
    rendered = path.join(work.path, "root");
    const render = await runPerch(["render", "--confdir", converted, "--backend", "file", "--keys", KEYS, "--root", rendered], { env: ENV });
    expect(render.exitCode, render.all).toBe(0);
  }, 120_000);

  it("has a corpus covering every construct", () => {
    expect(TEMPLATES).toEqual(["basics.tmpl", "conditions.tmpl", "confd-docs.tmpl", "defines.tmpl", "json.tmpl", "ranges.tmpl", "trim.tmpl"]);
  });

  it.each(TEMPLATES)("%s renders byte for byte as Go renders it", async (template) => {
    const go = await execa(confdrender, [KEYS, path.join(CONFD, "templates", template)], { env: { ...process.env, ...ENV }, stripFinalNewline: false });
    expect(go.stderr).toBe("");
    expect(go.stdout.length).toBeGreaterThan(0);
    const perch = await readFile(path.join(rendered, "out", template.replace(/\.tmpl$/, ".cfg")), "utf8");
    expect(perch).toBe(go.stdout);
  });
});
