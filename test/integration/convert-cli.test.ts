// `perch convert` through the built binary: a confdir, one file, what it refuses, and its usage.
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runPerch } from "../helpers/confdir.js";
import { useTempDir } from "../helpers/temp-dir.js";

const tmp = useTempDir("perch-convert-cli-");

/** A confd confdir under the test's directory with `templates` and resource files. */
async function confd(resources: Record<string, string>, templates: Record<string, string>): Promise<string> {
  const dir = path.join(tmp.path, "confd");
  await mkdir(path.join(dir, "conf.d"), { recursive: true });
  await mkdir(path.join(dir, "templates"));
  for (const [name, toml] of Object.entries(resources)) await writeFile(path.join(dir, "conf.d", name), toml);
  for (const [name, source] of Object.entries(templates)) await writeFile(path.join(dir, "templates", name), source);
  return dir;
}

describe("perch convert", () => {
  it("converts a confdir: resource files with src renamed and nothing else changed, templates to .hbs", async () => {
    const bird = '# BIRD\n[template]\nsrc = "bird.cfg.tmpl"   # the Go template\ndest = "/etc/bird.cfg"\nkeys = ["/bgp"]\n';
    const peers = "[template]\nsrc = 'peers.template'\ndest = \"/etc/peers.cfg\"\nkeys = [\"/bgp\"]\n";
    const src = await confd({ "bird.toml": bird, "peers.toml": peers }, { "bird.cfg.tmpl": 'as {{getv "/bgp/as"}}\n', "peers.template": '{{range gets "/bgp/peers/*"}}{{.Key}}\n{{end}}' });
    const dest = path.join(tmp.path, "perch");
    const r = await runPerch(["convert", src, dest]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      `${src}/conf.d/bird.toml → ${dest}/conf.d/bird.toml`,
      `${src}/conf.d/peers.toml → ${dest}/conf.d/peers.toml`,
      `${src}/templates/bird.cfg.tmpl → ${dest}/templates/bird.cfg.hbs`,
      `${src}/templates/peers.template → ${dest}/templates/peers.hbs`,
    ]);
    expect(await readFile(path.join(dest, "conf.d/bird.toml"), "utf8")).toBe(bird.replace('"bird.cfg.tmpl"', '"bird.cfg.hbs"'));
    expect(await readFile(path.join(dest, "conf.d/peers.toml"), "utf8")).toBe(peers.replace("'peers.template'", '"peers.hbs"'));
    expect(await readFile(path.join(dest, "templates/bird.cfg.hbs"), "utf8")).toBe('as {{getv "/bgp/as"}}\n');
    expect(await readFile(path.join(dest, "templates/peers.hbs"), "utf8")).toBe('{{#each (gets "/bgp/peers/*")}}{{key}}\n{{/each}}');
  });

  it("names every construct it cannot translate, as file:line: why, exits 1 and writes nothing", async () => {
    const src = await confd(
      { "a.toml": '[template]\nsrc = "a.tmpl"\ndest = "/a"\nkeys = ["/"]\n', "b.toml": '[template]\ndest = "/b"\nkeys = ["/"]\n' },
      { "a.tmpl": 'ok\n{{lookupIP "example.com"}}\n', "c.tmpl": "{{$n := 0}}{{range ls \"/x\"}}\n{{$n = 1}}{{end}}\n" },
    );
    const dest = path.join(tmp.path, "perch");
    const r = await runPerch(["convert", src, dest]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")).toEqual([
      `perch convert: ${src}/conf.d/b.toml: no src = "…" line to rename`,
      `perch convert: ${src}/templates/a.tmpl:2: lookupIP: lookupIP resolves DNS names at render time; perch renders from the store only`,
      `perch convert: ${src}/templates/c.tmpl:2: $n = … inside a range or with assigns a variable declared outside it; Handlebars has no assignment that outlives a block`,
    ]);
    await expect(readdir(dest)).rejects.toThrow(/ENOENT/);
  });

  it("converts one template to stdout, with its warnings on stderr", async () => {
    const file = path.join(tmp.path, "t.tmpl");
    await writeFile(file, '{{with json (getv "/pool")}}{{.cidr}}{{end}}\n');
    const r = await runPerch(["convert", file]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('{{#unless (not (json (getv "/pool")))}}{{#with (json (getv "/pool"))}}{{this.cidr}}{{/with}}{{/unless}}');
    expect(r.stderr).toBe(
      `perch convert: warning: ${file}:1: prints a value from a JSON document: Go prints <no value> where it is missing or null (perch prints nothing) and a number of 1e6 or more in exponent form (1e+06)`,
    );
  });

  it("keeps files that exist unless --force", async () => {
    const file = path.join(tmp.path, "t.tmpl");
    const out = path.join(tmp.path, "t.hbs");
    await writeFile(file, '{{getv "/k"}}');
    await writeFile(out, "mine");
    const kept = await runPerch(["convert", file, out]);
    expect(kept.exitCode).toBe(1);
    expect(kept.stderr).toBe(`perch convert: ${out}: exists; --force overwrites it`);
    expect(await readFile(out, "utf8")).toBe("mine");
    const forced = await runPerch(["convert", file, out, "--force"]);
    expect(forced.exitCode).toBe(0);
    expect(await readFile(out, "utf8")).toBe('{{getv "/k"}}');
  });

  it("explains its usage", async () => {
    const missing = await runPerch(["convert"]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/^perch convert: missing SRC\n\nusage: perch convert SRC \[DEST\] \[--force\]/);
    const dir = await confd({}, {});
    const noDest = await runPerch(["convert", dir]);
    expect(noDest.exitCode).toBe(2);
    expect(noDest.stderr).toMatch(/^perch convert: converting a confdir needs DEST, the perch confdir to write\n/);
    const help = await runPerch(["--help"]);
    expect(help.stdout).toContain("  convert    translate confd Go templates into perch Handlebars templates (perch convert --help)");
  });
});
