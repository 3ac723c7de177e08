// Configuration a user gets wrong: each mistake is one line on stderr naming the file, the line
// (and column where there is one) and what is wrong, all of them at once, exit 2 and nothing
// written. (render-pass.test.ts already pins unknown fields, a missing src and a shared dest.) In
// watch mode a conf.d file that stops parsing is refused and the running set goes on rendering.
import { existsSync } from "node:fs";
import { readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeConfdir, resourceToml, runPerch, type TestConfdir } from "../helpers/confdir.js";
import { startWatch, type WatchProcess } from "../helpers/watch-process.js";

let c: TestConfdir;
let w: WatchProcess | undefined;
beforeEach(async () => {
  c = await makeConfdir();
});
afterEach(async () => {
  await w?.stop();
  w = undefined;
  await c.cleanup();
});

describe("perch render refuses a bad confdir with one exact line per problem", () => {
  it("TOML syntax, wrong types, a template syntax error and an unknown helper — every one, exit 2, nothing written", async () => {
    const conf = path.join(c.dir, "conf.d");
    const templates = path.join(c.dir, "templates");
    // An unterminated string on line 3.
    await writeFile(path.join(conf, "a.toml"), `[template]\nsrc = "ok.hbs"\ndest = "${c.out}/a.cfg\nkeys = ["/k"]\n`);
    await writeFile(path.join(conf, "b.toml"), `[template]\nsrc = "ok.hbs"\ndest = "${c.out}/b.cfg"\nkeys = "/k"\nmode = 644\ncheck_cmd = ["bird", "-p"]\nuid = "root"\n`);
    await c.writeResource("c", resourceToml("block.hbs", path.join(c.out, "c.cfg"), ["/k"]));
    await c.writeResource("d", resourceToml("helper.hbs", path.join(c.out, "d.cfg"), ["/k"]));
    await writeFile(path.join(conf, "e.toml"), `# no table at all\nsrc = "ok.hbs"\n`);
    await c.writeTemplate("ok.hbs", '{{getv "/k"}}\n');
    await c.writeTemplate("block.hbs", 'line one\n{{#if (getv "/k")}}\nyes\n{{/iff}}\n');
    await c.writeTemplate("helper.hbs", 'x\n  {{getv "/k"}} {{ipv5 (getv "/k")}}\n');
    await c.writeKeys({ "/k": "v" });

    const r = await runPerch(["render", "--confdir", c.dir, "--backend", "file", "--keys", c.keysFile]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")).toEqual([
      `perch render: ${conf}/a.toml:3:${`dest = "${c.out}/a.cfg`.length + 1}: TOML syntax error: Expected "\\"", "\\\\", "\\\\U", "\\\\u", "\\\\x", or [^"\\\\\\0-\\x08\\n-\\x1F\\x7F] but "\\n" found.`,
      `perch render: ${conf}/b.toml:4: field "keys" must be a list of strings, got the string "/k"`,
      `perch render: ${conf}/b.toml:5: field "mode" must be a string, got the integer 644`,
      `perch render: ${conf}/b.toml:6: field "check_cmd" must be a string, got a list of strings`,
      `perch render: ${conf}/b.toml:7: field "uid" must be an integer, got the string "root"`,
      `perch render: ${conf}/e.toml: unknown table [src] (a resource file has one [template] table)`,
      `perch render: ${conf}/e.toml: missing [template] table`,
      `perch render: ${templates}/block.hbs:2:4: if doesn't match iff`,
      `perch render: ${templates}/helper.hbs:2:17: unknown helper ipv5; did you mean ipv4?`,
    ]);
    for (const f of ["a", "b", "c", "d"]) expect(existsSync(path.join(c.out, `${f}.cfg`))).toBe(false);
  });
});

describe("a malformed etcd endpoint is configuration: exit 2 at once, for the daemon too", () => {
  it("perch render, perch snapshot and perch watch name the endpoint and exit 2 without retrying", async () => {
    const message = 'invalid etcd endpoint "etcd-1 etcd-2": expected http://HOST:PORT or https://HOST:PORT';
    for (const command of ["render", "watch", "snapshot"]) {
      const extra = command === "snapshot" ? ["--prefix", "/calico"] : ["--confdir", c.dir];
      const r = await runPerch([command, ...extra], { env: { ETCD_ENDPOINTS: "etcd-1 etcd-2" } });
      expect(r.exitCode, command).toBe(2);
      expect(r.stderr, command).toBe(`perch ${command}: ${message}`);
    }
  });
});

describe("perch watch and a conf.d file that stops parsing", () => {
  it("is refused with the file and line, on the edit and on SIGHUP; the running set keeps rendering; the fix applies", async () => {
    const dest = path.join(c.out, "app.cfg");
    const conf = path.join(c.dir, "conf.d");
    await c.writeTemplate("app.hbs", 'app {{getv "/v"}}\n');
    await c.writeTemplate("app2.hbs", 'app2 {{getv "/v"}}\n');
    await c.writeResource("app", resourceToml("app.hbs", dest, ["/v"]));
    await c.writeKeys({ "/v": "1" });
    w = await startWatch(["--confdir", c.dir, "--backend", "file", "--keys", c.keysFile, "--wait", "10ms:50ms"]);
    await w.waitForFile(dest, (s) => s === "app 1\n");

    // A half-finished edit: the table header is not closed, and a second file has a wrong type.
    await writeFile(path.join(conf, "app.toml"), `[template\nsrc = "app2.hbs"\ndest = "${dest}"\nkeys = ["/v"]\n`);
    await c.writeResource("more", resourceToml("app.hbs", path.join(c.out, "more.cfg"), ["/v"], "wait = 5"));
    const refusedErrors = [
      `${conf}/app.toml:1:10: TOML syntax error: Expected ".", "]", [ \\t], or [A-Za-z0-9_\\-] but "\\n" found.`,
      `${conf}/more.toml:5: field "wait" must be a string, got the integer 5`,
    ];
    const isRefused = (e: Record<string, unknown>) => e.event === "config-reload" && e.outcome === "refused";
    // Both files were edited within the debounce window; a slow machine may refuse once per file.
    const onEdit = await w.waitForEvent((e) => isRefused(e) && Array.isArray(e.errors) && e.errors.length === 2);
    expect(onEdit).toMatchObject({ level: "error", errors: refusedErrors, msg: "new configuration refused; the running set is kept" });
    const before = w.events.filter(isRefused).length;
    w.signal("SIGHUP");
    await w.waitForEvent((e) => isRefused(e) && w !== undefined && w.events.filter(isRefused).indexOf(e) >= before);
    expect(await w.metric("perch_config_reloads_total", { outcome: "refused" })).toBeGreaterThanOrEqual(2);

    // The running set still renders changes.
    await c.writeKeys({ "/v": "2" });
    await w.waitForFile(dest, (s) => s === "app 2\n");
    expect(existsSync(path.join(c.out, "more.cfg"))).toBe(false);

    // Fixed: the new set (app2.hbs, and the resource "more") takes over.
    await writeFile(path.join(conf, "app.toml"), resourceToml("app2.hbs", dest, ["/v"]));
    await c.writeResource("more", resourceToml("app.hbs", path.join(c.out, "more.cfg"), ["/v"], 'wait = "5ms"'));
    await w.waitForFile(dest, (s) => s === "app2 2\n");
    await w.waitForFile(path.join(c.out, "more.cfg"), (s) => s === "app 2\n");
    expect(await w.metric("perch_config_reloads_total", { outcome: "applied" })).toBeGreaterThanOrEqual(1);
    expect(w.exited).toBe(false);
    expect(await readFile(dest, "utf8")).toBe("app2 2\n");
  });
});

// Issue 19, item 8: one file named twice in conf.d (a doubled slash, a `..`, a symlinked
// directory) is one destination, which two resources would rewrite on every pass.
describe("two resources naming one destination, spelled differently", () => {
  const spellings: Array<[string, (out: string) => string]> = [
    ["a doubled slash", (out) => `${out}//a.txt`],
    ["a .. segment", (out) => `${out}/../out/a.txt`],
    ["a symlinked directory", (out) => `${out}/link/a.txt`],
  ];

  async function twoSpellings(second: string): Promise<{ conf: string; message: string }> {
    await symlink(c.out, path.join(c.out, "link"));
    await c.writeTemplate("t.hbs", 't {{getv "/v"}}\n');
    await c.writeResource("a", resourceToml("t.hbs", path.join(c.out, "a.txt"), ["/v"]));
    await c.writeResource("b", resourceToml("t.hbs", second, ["/v"]));
    await c.writeKeys({ "/v": "1" });
    const conf = path.join(c.dir, "conf.d");
    const message = `dest ${second} is also the dest of ${conf}/a.toml (as ${path.join(c.out, "a.txt")}): both are ${path.join(c.out, "a.txt")}: two resources cannot write one file`;
    return { conf, message };
  }

  it.each(spellings)("through %s: perch check, perch render and perch watch refuse it, exit 2, nothing written", async (_, spell) => {
    const { conf, message } = await twoSpellings(spell(c.out));
    const check = await runPerch(["check", "--confdir", c.dir]);
    expect(check.exitCode).toBe(2);
    expect(check.stderr.split("\n")).toEqual([`${conf}/b.toml:3: ${message}`, "perch check: 1 problem"]);
    const args = ["--confdir", c.dir, "--backend", "file", "--keys", c.keysFile];
    const render = await runPerch(["render", ...args]);
    expect(render.exitCode).toBe(2);
    expect(render.stderr).toBe(`perch render: ${conf}/b.toml:3: ${message}`);
    // The daemon logs to stdout, one JSON object a line.
    const watch = await runPerch(["watch", ...args]);
    expect(watch.exitCode).toBe(2);
    const events = watch.stdout.split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events).toContainEqual(expect.objectContaining({ msg: "could not start", err: `${conf}/b.toml:3: ${message}` }));
    expect(existsSync(path.join(c.out, "a.txt"))).toBe(false);
  });

  it("on SIGHUP: the new set is refused with the message, the running set keeps rendering", async () => {
    const { conf } = await twoSpellings(path.join(c.out, "b.txt"));
    w = await startWatch(["--confdir", c.dir, "--backend", "file", "--keys", c.keysFile, "--wait", "10ms:50ms"]);
    await w.waitForFile(path.join(c.out, "a.txt"), (s) => s === "t 1\n");
    const isRefused = (e: Record<string, unknown>) => e.event === "config-reload" && e.outcome === "refused";
    for (const [, spell] of spellings) {
      const second = spell(c.out);
      await c.writeResource("b", resourceToml("t.hbs", second, ["/v"]));
      const before = w.events.filter(isRefused).length;
      w.signal("SIGHUP");
      const refused = await w.waitForEvent((e) => isRefused(e) && w !== undefined && w.events.filter(isRefused).indexOf(e) >= before);
      const a = path.join(c.out, "a.txt");
      expect(refused.errors).toContain(`${conf}/b.toml:3: dest ${second} is also the dest of ${conf}/a.toml (as ${a}): both are ${a}: two resources cannot write one file`);
    }
    // The running set (a.txt and b.txt) still renders changes.
    await c.writeKeys({ "/v": "2" });
    await w.waitForFile(path.join(c.out, "a.txt"), (s) => s === "t 2\n");
    await w.waitForFile(path.join(c.out, "b.txt"), (s) => s === "t 2\n");
    expect(w.exited).toBe(false);
  });
});
