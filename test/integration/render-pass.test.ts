// `perch render` end to end with the file store: what a pass writes, keeps, checks and reloads.
import { mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { resourceToml, runPerch, useConfdir } from "../helpers/confdir.js";

const c = useConfdir();

function render(...extra: string[]) {
  return runPerch(["render", "--confdir", c.dir, "--backend", "file", "--keys", c.keysFile, ...extra]);
}

describe("perch render", () => {
  it("writes each resource, then reports unchanged on the next pass", async () => {
    await c.writeTemplate("a.hbs", 'as {{getv "/as"}};\n');
    await c.writeResource("a", resourceToml("a.hbs", path.join(c.out, "a.cfg"), ["/"], 'prefix = "/bgp"'));
    await c.writeKeys({ "/bgp/as": "64512" });
    const first = await render();
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toMatch(/^written\s+a\s+/);
    expect(await readFile(path.join(c.out, "a.cfg"), "utf8")).toBe("as 64512;\n");
    expect((await stat(path.join(c.out, "a.cfg"))).mode & 0o777).toBe(0o644);
    const second = await render();
    expect(second.stdout).toMatch(/^unchanged\s+a\s+/);
  });

  it("a failing check_cmd keeps the destination byte-identical and runs no reload", async () => {
    const dest = path.join(c.out, "checked.cfg");
    const marker = path.join(c.dir, "reloaded");
    await writeFile(dest, "old content\n");
    await c.writeTemplate("t.hbs", "new {{getv \"/k\"}}\n");
    await c.writeResource("checked", resourceToml("t.hbs", dest, ["/k"], `check_cmd = "grep -q never {{.src}}"\nreload_cmd = "touch ${marker}"`));
    await c.writeKeys({ "/k": "v" });
    const r = await render();
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^check-failed\s+checked\s+.*\n\s+check_cmd failed: exit status 1/);
    expect(await readFile(dest, "utf8")).toBe("old content\n");
    await expect(stat(marker)).rejects.toThrow(/ENOENT/);
    expect((await readdir(c.out)).filter((f) => f.includes("perch-stage"))).toEqual([]);
  });

  it("a resource whose template fails is left untouched while the others are written", async () => {
    const bad = path.join(c.out, "bad.cfg");
    await writeFile(bad, "last good\n");
    await c.writeTemplate("bad.hbs", 'x {{getv "/missing"}}\n');
    await c.writeTemplate("good.hbs", 'y {{getv "/k"}}\n');
    await c.writeResource("bad", resourceToml("bad.hbs", bad, ["/k"]));
    await c.writeResource("good", resourceToml("good.hbs", path.join(c.out, "good.cfg"), ["/k"]));
    await c.writeKeys({ "/k": "v" });
    const r = await render();
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(`render-failed bad`);
    expect(r.stdout).toContain(`${path.join(c.dir, "templates", "bad.hbs")}:1:3: key does not exist: /missing`);
    expect(await readFile(bad, "utf8")).toBe("last good\n");
    expect(await readFile(path.join(c.out, "good.cfg"), "utf8")).toBe("y v\n");
  });

  it("two changed resources with the same reload_cmd reload once, after both are written", async () => {
    const log = path.join(c.dir, "reloads.log");
    const reload = `reload_cmd = "cat ${path.join(c.out, "one.cfg")} ${path.join(c.out, "two.cfg")} >> ${log}"`;
    await c.writeTemplate("t.hbs", '{{getv "/k"}}\n');
    await c.writeResource("one", resourceToml("t.hbs", path.join(c.out, "one.cfg"), ["/k"], reload));
    await c.writeResource("two", resourceToml("t.hbs", path.join(c.out, "two.cfg"), ["/k"], reload));
    await c.writeKeys({ "/k": "v1" });
    const r = await render();
    expect(r.exitCode).toBe(0);
    expect(r.stdout.match(/^reloaded/gm)).toHaveLength(1);
    expect(await readFile(log, "utf8")).toBe("v1\nv1\n");
    await render();
    expect(await readFile(log, "utf8")).toBe("v1\nv1\n");
  });

  it("puts a path holding `$&` into check_cmd and reload_cmd as it is", async () => {
    const dest = path.join(c.out, "a$&b.cfg");
    const log = path.join(c.dir, "reloads.log");
    const commands = `check_cmd = ${JSON.stringify("test -s '{{.src}}'")}\nreload_cmd = ${JSON.stringify(`printf '%s\\n' '{{.dest}}' '{{dest}}' > ${log}`)}`;
    await c.writeTemplate("t.hbs", '{{getv "/k"}}\n');
    await c.writeResource("odd", resourceToml("t.hbs", dest, ["/k"], commands));
    await c.writeKeys({ "/k": "v" });
    const r = await render();
    expect(r.exitCode).toBe(0);
    expect(await readFile(dest, "utf8")).toBe("v\n");
    expect(await readFile(log, "utf8")).toBe(`${dest}\n${dest}\n`);
  });

  it("commits unchecked resources before checked ones, so includes exist when the check runs", async () => {
    const dir = c.out;
    await c.writeTemplate("main.hbs", 'include "inc.cfg"; {{getv "/k"}}\n');
    await c.writeTemplate("inc.hbs", 'inc {{getv "/k"}}\n');
    // conf.d order puts "a_main" first; the check needs inc.cfg already in place with the new value.
    await c.writeResource("a_main", resourceToml("main.hbs", path.join(dir, "main.cfg"), ["/k"], 'check_cmd = "grep -q \\"inc v2\\" inc.cfg"'));
    await c.writeResource("b_inc", resourceToml("inc.hbs", path.join(dir, "inc.cfg"), ["/k"]));
    await c.writeKeys({ "/k": "v2" });
    const r = await render();
    expect(r.stdout).toMatch(/^written\s+a_main/m);
    expect(r.exitCode).toBe(0);
  });

  it("--noop --diff --exit-code shows the diff, writes nothing and exits 3", async () => {
    const dest = path.join(c.out, "d.cfg");
    await writeFile(dest, "line 1\nold\n");
    await c.writeTemplate("d.hbs", 'line 1\n{{getv "/k"}}\n');
    await c.writeResource("d", resourceToml("d.hbs", dest, ["/k"]));
    await c.writeKeys({ "/k": "new" });
    const r = await render("--noop", "--diff", "--exit-code");
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toContain("would-write");
    expect(r.stdout).toContain(`--- ${dest}`);
    expect(r.stdout).toContain("-old\n+new");
    expect(await readFile(dest, "utf8")).toBe("line 1\nold\n");
    await render();
    const again = await render("--noop", "--diff", "--exit-code");
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/^unchanged/);
  });

  it("--only renders the named resources; --root places dest under a directory it creates", async () => {
    await c.writeTemplate("t.hbs", "{{getv \"/k\"}}\n");
    await c.writeResource("x", resourceToml("t.hbs", "/etc/perch-test/x.cfg", ["/k"]));
    await c.writeResource("y", resourceToml("t.hbs", "/etc/perch-test/y.cfg", ["/k"]));
    await c.writeKeys({ "/k": "v" });
    const root = path.join(c.dir, "root");
    const r = await render("--root", root, "--only", "y");
    expect(r.exitCode).toBe(0);
    expect(await readdir(path.join(root, "etc/perch-test"))).toEqual(["y.cfg"]);
  });

  it("substitutes //NODENAME and honours the global --prefix", async () => {
    await c.writeTemplate("t.hbs", '{{getv "/ip"}} {{getenv "NODENAME"}}\n');
    await c.writeResource("n", resourceToml("t.hbs", path.join(c.out, "n.cfg"), ["/ip"], 'prefix = "/host//NODENAME"'));
    await c.writeKeys({ "/root/host/node7/ip": "10.0.0.7", "/root/host/node8/ip": "10.0.0.8" });
    const r = await render("--node-name", "node7", "--prefix", "/root");
    expect(r.exitCode).toBe(0);
    expect(await readFile(path.join(c.out, "n.cfg"), "utf8")).toBe("10.0.0.7 node7\n");
  });

  it("templates do not see the etcd password through getenv", async () => {
    await c.writeTemplate("t.hbs", '{{getenv "ETCD_PASSWORD" "hidden"}} {{getenv "OTHER"}}\n');
    await c.writeResource("t", resourceToml("t.hbs", path.join(c.out, "t.cfg"), ["/k"]));
    await c.writeKeys({});
    const r = await runPerch(["render", "--confdir", c.dir, "--keys", c.keysFile], { env: { ETCD_PASSWORD: "s3cret", OTHER: "visible" } });
    expect(r.exitCode).toBe(0);
    expect(await readFile(path.join(c.out, "t.cfg"), "utf8")).toBe("hidden visible\n");
  });

  it("refuses a confdir with errors, listing every one, exit 2", async () => {
    await c.writeTemplate("t.hbs", "{{nosuch 1}}\n");
    await c.writeResource("a", resourceToml("t.hbs", path.join(c.out, "a"), ["/k"], "relaod_cmd = 'x'"));
    await c.writeResource("b", resourceToml("missing.hbs", path.join(c.out, "b"), ["/k"]));
    await c.writeResource("c", resourceToml("t.hbs", path.join(c.out, "b"), ["/k"]));
    await c.writeKeys({});
    const r = await render();
    expect(r.exitCode).toBe(2);
    const conf = path.join(c.dir, "conf.d");
    expect(r.stderr.split("\n").filter(Boolean)).toEqual([
      `perch render: ${conf}/a.toml:5: unknown field "relaod_cmd" in [template] (did you mean "reload_cmd"?)`,
      `perch render: ${conf}/b.toml:2: template missing.hbs does not exist (looked for ${path.join(c.dir, "templates", "missing.hbs")})`,
      `perch render: ${conf}/c.toml:3: dest ${path.join(c.out, "b")} is also the dest of ${conf}/b.toml: two resources cannot write one file`,
    ]);
  });

  it("reports usage errors with exit 2", async () => {
    const r = await runPerch(["render", "--backend", "file"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe("perch render: --backend file needs --keys FILE");
    const bad = await runPerch(["render", "--bogus"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toBe("perch: unknown flag --bogus\nRun 'perch render --help' for its flags.");
  });

  it("names a bad keys file", async () => {
    await c.writeTemplate("t.hbs", "x\n");
    await c.writeResource("a", resourceToml("t.hbs", path.join(c.out, "a"), ["/k"]));
    await writeFile(c.keysFile, '{"/k": 5}');
    const r = await render();
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`perch render: ${c.keysFile}: value of key /k must be a string, got number`);
  });
});

// The pass's order and its failure isolation, with checks that look at the tree while they run.
describe("perch render: install order and failures", () => {
  it("installs in the same order: unchecked first, then checked, each check seeing every earlier file", async () => {
    // Each check records every destination's content and the number of stage files (its own).
    const seen = (name: string) => `check_cmd = 'grep -H . *.cfg > ../${name}.seen; ls -A | grep -c perch-stage >> ../${name}.seen'`;
    await c.writeTemplate("t.hbs", '{{getv "/k"}}\n');
    for (const name of ["a", "b", "c", "x", "y"]) await writeFile(path.join(c.out, `${name}.cfg`), "old\n");
    for (const name of ["a", "b", "c"]) await c.writeResource(name, resourceToml("t.hbs", path.join(c.out, `${name}.cfg`), ["/k"], seen(name)));
    for (const name of ["x", "y"]) await c.writeResource(name, resourceToml("t.hbs", path.join(c.out, `${name}.cfg`), ["/k"]));
    await c.writeKeys({ "/k": "new" });
    const r = await render();
    expect(r.exitCode).toBe(0);
    const state = (installed: string[]) =>
      ["a", "b", "c", "x", "y"].map((name) => `${name}.cfg:${installed.includes(name) ? "new" : "old"}\n`).join("") + "1\n";
    expect(await readFile(path.join(c.dir, "a.seen"), "utf8")).toBe(state(["x", "y"]));
    expect(await readFile(path.join(c.dir, "b.seen"), "utf8")).toBe(state(["x", "y", "a"]));
    expect(await readFile(path.join(c.dir, "c.seen"), "utf8")).toBe(state(["x", "y", "a", "b"]));
  });

  it("writes unchecked files side by side, and renders the next resource while a check runs", async () => {
    // a's check takes 300 ms; b (after a in conf.d order) is rendered meanwhile, but its check
    // sees a.cfg installed; u and v have no check and are written before a's check starts.
    await c.writeTemplate("t.hbs", '{{getv "/k"}}\n');
    await c.writeResource("a", resourceToml("t.hbs", path.join(c.out, "a.cfg"), ["/k"], `check_cmd = "grep -qx new u.cfg && grep -qx new v.cfg && sleep 0.3"`));
    await c.writeResource("b", resourceToml("t.hbs", path.join(c.out, "b.cfg"), ["/k"], `check_cmd = "grep -qx new a.cfg"`));
    for (const name of ["u", "v"]) await c.writeResource(name, resourceToml("t.hbs", path.join(c.out, `${name}.cfg`), ["/k"]));
    await c.writeKeys({ "/k": "new" });
    const r = await render("--log-level", "debug");
    expect(r.exitCode).toBe(0);
    const events = r.stderr
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { event?: string; resource?: string })
      .filter((e) => e.event === "render" || e.event === "write")
      .map((e) => `${e.event} ${e.resource}`);
    expect(events.slice(0, 2)).toEqual(["render u", "render v"]);
    // v is rendered before u's write is done; a's write (and so its check) waits for both.
    expect(events.indexOf("write u")).toBeGreaterThan(events.indexOf("render v"));
    expect(events.slice(-3)).toEqual(["render b", "write a", "write b"]);
    expect([...events.slice(2, -3)].sort()).toEqual(["render a", "write u", "write v"]);
    expect(r.stdout).toMatch(/^written\s+a\s.*\nwritten\s+b\s/);
    // Renders ran while fsyncs waited: an fsync time would mostly be theirs, so none is reported.
    const writes = r.stderr.split("\n").filter((line) => line.includes('"event":"write"'));
    expect(writes).toHaveLength(4);
    for (const line of writes) expect(JSON.parse(line)).not.toHaveProperty("fsyncMs");
  });

  it("a failed check, render or write of one resource does not stop the others; the reload runs once", async () => {
    const reloads = path.join(c.dir, "reloads.log");
    const reload = `reload_cmd = "cat ${path.join(c.out, "c.cfg")} ${path.join(c.out, "e.cfg")} >> ${reloads}"`;
    await c.writeTemplate("t.hbs", '{{getv "/k"}}\n');
    await c.writeTemplate("missing.hbs", '{{getv "/missing"}}\n');
    await c.writeResource("a", resourceToml("t.hbs", path.join(c.out, "a.cfg"), ["/k"], `check_cmd = "false"\n${reload}`));
    await c.writeResource("b", resourceToml("missing.hbs", path.join(c.out, "b.cfg"), ["/k"], `check_cmd = "true"\n${reload}`));
    await c.writeResource("c", resourceToml("t.hbs", path.join(c.out, "c.cfg"), ["/k"], `check_cmd = "true"\n${reload}`));
    await c.writeResource("d", resourceToml("t.hbs", path.join(c.out, "no-such-dir", "d.cfg"), ["/k"], reload));
    await c.writeResource("e", resourceToml("t.hbs", path.join(c.out, "e.cfg"), ["/k"], reload));
    await c.writeKeys({ "/k": "v" });
    const r = await render();
    expect(r.exitCode).toBe(1);
    expect(r.stdout.split("\n").filter((line) => !line.startsWith(" "))).toEqual([
      expect.stringMatching(/^check-failed\s+a\s/),
      expect.stringMatching(/^render-failed\s+b\s/),
      expect.stringMatching(/^written\s+c\s/),
      expect.stringMatching(/^failed\s+d\s/),
      expect.stringMatching(/^written\s+e\s/),
      expect.stringMatching(/^reloaded\s/),
    ]);
    expect((await readdir(c.out)).sort()).toEqual(["c.cfg", "e.cfg"]);
    expect(await readFile(reloads, "utf8")).toBe("v\nv\n");
  });

  it("runs reload_cmd in the destination's directory, as check_cmd (issue 19)", async () => {
    const sub = path.join(c.out, "etc");
    await mkdir(sub);
    const dest = path.join(sub, "a.cfg");
    await c.writeTemplate("a.hbs", 'v {{getv "/k"}}\n');
    await c.writeResource("a", resourceToml("a.hbs", dest, ["/k"], `check_cmd = "pwd > check.pwd"\nreload_cmd = "pwd > reload.pwd"`));
    await c.writeKeys({ "/k": "1" });
    const r = await runPerch(["render", "--confdir", c.dir, "--backend", "file", "--keys", c.keysFile], { cwd: c.dir });
    expect(r.exitCode).toBe(0);
    expect(await readFile(path.join(sub, "check.pwd"), "utf8")).toBe(`${sub}\n`);
    expect(await readFile(path.join(sub, "reload.pwd"), "utf8")).toBe(`${sub}\n`);
  });
});
