// Logs as operators read them (issue 22), through the built binary: JSON lines with an ISO-8601 time
// and the level's name away from a terminal, readable text on one (a real pseudo-terminal, from
// util-linux's `script`) or with --log-format text; each failure of a CI render written once; and
// `perch watch --diff`'s diff as coloured text on a terminal, as a field in JSON.
import { execFileSync } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { PERCH, REPO, resourceToml, runPerch, useConfdir } from "../helpers/confdir.js";
import { startWatch, waitFor, type WatchProcess } from "../helpers/watch-process.js";

const c = useConfdir();
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
// eslint-disable-next-line no-control-regex -- the terminal's colour sequences are what is tested
const ANSI = /\x1b\[[0-9;]*m/g;

let w: WatchProcess | undefined;
/** A process a test started itself (on a terminal, or piped), stopped after it. */
let child: ResultPromise | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
  child?.kill("SIGTERM");
  await child;
  child = undefined;
});

beforeAll(() => {
  // util-linux's script(1) gives the command a pseudo-terminal: the only way to test "on a terminal".
  execFileSync("script", ["--version"]);
});

/** `perch ARGS` on a pseudo-terminal: stdout and stderr are both the terminal, as in a shell. */
function onTerminal(args: string[]): ResultPromise {
  const command = ["exec", "node", PERCH, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  return execa("script", ["-qfec", command, "/dev/null"], { cwd: REPO, reject: false, env: { NODENAME: "" }, stdin: "ignore" });
}

async function appResource(extra = ""): Promise<string> {
  const dest = path.join(c.out, "app.cfg");
  await c.writeTemplate("app.hbs", 'value {{getv "/v"}}\n');
  await c.writeResource("app", resourceToml("app.hbs", dest, ["/v"], extra));
  await c.writeKeys({ "/v": "1" });
  return dest;
}

function occurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe("--log-format", () => {
  it("away from a terminal the log is JSON lines, each with an ISO-8601 time and the level's name", async () => {
    await appResource();
    const r = await runPerch(["render", "--confdir", c.dir, "--keys", c.keysFile, "--log-level", "debug"]);
    expect(r.exitCode).toBe(0);
    const lines = r.stderr.split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((l) => l.event)).toEqual(expect.arrayContaining(["list", "render", "write", "pass"]));
    for (const l of lines) {
      expect(l.time).toMatch(ISO_UTC);
      expect(Math.abs(Date.parse(l.time as string) - Date.now())).toBeLessThan(60_000);
      expect(["debug", "info"]).toContain(l.level);
    }
    expect(lines.find((l) => l.event === "write")).toMatchObject({ level: "info", resource: "app", outcome: "written", msg: "written" });
  });

  it("--log-format text, PERCH_LOG_FORMAT=text or log_format in perch.toml: readable lines, uncoloured away from a terminal", async () => {
    await appResource();
    const viaFlag = await runPerch(["render", "--confdir", c.dir, "--keys", c.keysFile, "--log-level", "info", "--log-format", "text"]);
    const viaEnv = await runPerch(["render", "--confdir", c.dir, "--keys", c.keysFile, "--log-level", "info"], { env: { PERCH_LOG_FORMAT: "text" } });
    await writeFile(path.join(c.dir, "perch.toml"), 'log_format = "text"\n');
    const viaFile = await runPerch(["render", "--confdir", c.dir, "--keys", c.keysFile, "--log-level", "info"]);
    for (const r of [viaFlag, viaEnv, viaFile]) {
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toMatch(/^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}\] INFO: listed\n {4}event: "list"\n/);
      expect(r.stderr).toMatch(/^\[[^\]]+\] INFO: pass done$/m);
      expect(r.stderr).not.toMatch(/^\{/m);
      expect(r.stderr).not.toMatch(ANSI);
    }
    // The flag wins over perch.toml.
    const json = await runPerch(["render", "--confdir", c.dir, "--keys", c.keysFile, "--log-level", "info", "--log-format", "json"]);
    expect(JSON.parse(json.stderr.split("\n")[0] as string)).toMatchObject({ level: "info", event: "list" });
  });

  it("perch watch --log-format text into a pipe (a supervisor's log): plain lines with the full time, the last one written on the way out", async () => {
    await appResource();
    const proc = execa("node", [PERCH, "watch", "--confdir", c.dir, "--keys", c.keysFile, "--log-format", "text"], { cwd: REPO, reject: false, env: { NODENAME: "" }, stdin: "ignore" });
    child = proc;
    let out = "";
    proc.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
    await waitFor("the first pass", () => (out.includes("INFO: pass done") ? true : undefined), 15_000);
    proc.kill("SIGTERM");
    const r = await proc;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^\[\d{4}-\d\d-\d\dT[\d:.]+[+-]\d{4}\] INFO: written\n {4}resource: "app"\n/m);
    expect(r.stdout).toMatch(/\] INFO: stopped\n {4}event: "stop"$/);
    expect(r.stdout).not.toMatch(ANSI);
  });

  it("a bad --log-format is a usage error naming the choices", async () => {
    const r = await runPerch(["render", "--keys", c.keysFile, "--log-format", "pretty"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe('perch render: --log-format must be json or text, got "pretty"');
  });

  it("on a terminal the default is readable, coloured text", async () => {
    await appResource();
    const r = await onTerminal(["render", "--confdir", c.dir, "--keys", c.keysFile, "--log-level", "info"]);
    expect(r.exitCode).toBe(0);
    const out = String(r.stdout);
    expect(out).toContain("\x1b[32mINFO\x1b[39m");
    const plain = out.replaceAll(ANSI, "").replaceAll("\r", "");
    expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: written$/m);
    expect(plain).toMatch(/^written {7}app {14}\//m);
    expect(plain).not.toContain('"level"');
  });
});

describe("a CI render writes each failure once", () => {
  it("a failed check and a failed reload: a report line each on stdout, the log lines only at debug", async () => {
    const checked = path.join(c.out, "checked.cfg");
    const reloaded = path.join(c.out, "reloaded.cfg");
    await c.writeTemplate("app.hbs", 'value {{getv "/v"}}\n');
    await c.writeResource("checked", resourceToml("app.hbs", checked, ["/v"], `check_cmd = "echo bird: syntax error at line 3 >&2; exit 1"`));
    await c.writeResource("reloaded", resourceToml("app.hbs", reloaded, ["/v"], `reload_cmd = "echo bird: control socket gone >&2; exit 1"`));
    await c.writeKeys({ "/v": "1" });
    const args = ["render", "--confdir", c.dir, "--keys", c.keysFile];

    const r = await runPerch(args);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n")).toEqual([
      `check-failed  checked          ${checked}`,
      "    check_cmd failed: exit status 1: bird: syntax error at line 3",
      `written       reloaded         ${reloaded}`,
      "reload-failed echo bird: control socket gone >&2; exit 1: exit status 1: bird: control socket gone",
    ]);
    // Again at info, the reload asked for again (only a written file reloads).
    await rm(reloaded);
    for (const info of [r, await runPerch([...args, "--log-level", "info"])]) {
      expect(occurrences(info.all, "bird: syntax error at line 3")).toBe(1);
      expect(occurrences(info.all, "bird: control socket gone\n")).toBe(0);
      expect(occurrences(info.all, "control socket gone")).toBe(2); // the command and its output, on the report line
    }

    // Asked for, the log has them, at debug.
    await rm(reloaded);
    const debug = await runPerch([...args, "--log-level", "debug"]);
    const events = debug.stderr.split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.find((e) => e.event === "write" && e.resource === "checked")).toMatchObject({ level: "debug", outcome: "check-failed", output: "bird: syntax error at line 3\n" });
    expect(events.find((e) => e.event === "reload")).toMatchObject({ level: "debug", outcome: "failed", output: "bird: control socket gone\n" });
    expect(events.filter((e) => e.level === "error" || e.level === "warn")).toEqual([]);
  });

  it("a run that fails as a whole (no keys file, no etcd) says so in one line", async () => {
    await appResource();
    const r = await runPerch(["render", "--confdir", c.dir, "--keys", path.join(c.dir, "missing.json"), "--log-level", "info"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.split("\n")).toEqual([`perch render: ${path.join(c.dir, "missing.json")}: cannot read keys file: ENOENT: no such file or directory, open '${path.join(c.dir, "missing.json")}'`]);
    // Port 1 on loopback: nothing listens there.
    const etcd = await runPerch(["render", "--confdir", c.dir, "--endpoints", "http://127.0.0.1:1", "--log-level", "info"]);
    expect(etcd.stderr.split("\n")).toEqual(["perch render: cannot connect to etcd at http://127.0.0.1:1: connection refused (is etcd running and listening there?)"]);
  });
});

describe("perch watch --diff", () => {
  it("on a terminal: the diff as coloured unified-diff lines under its message, not an escaped string", async () => {
    await appResource();
    child = onTerminal(["watch", "--confdir", c.dir, "--keys", c.keysFile, "--diff"]);
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
    await waitFor("the diff on the terminal", () => (out.includes("+value 1") ? true : undefined), 15_000);
    const text = out.replaceAll("\r", "");
    expect(text).toContain("INFO\x1b[39m: \x1b[36mdiff\x1b[39m\n");
    expect(text).toContain(`\n      \x1b[1m--- /dev/null\x1b[0m\n      \x1b[1m+++ ${path.join(c.out, "app.cfg")}\x1b[0m\n      \x1b[36m@@ -0,0 +1,1 @@\x1b[0m\n      \x1b[32m+value 1\x1b[0m\n`);
    expect(text).not.toContain("\\n");
  });

  it("in JSON: the unified diff is the event's `diff` field", async () => {
    const dest = await appResource();
    w = await startWatch(["--confdir", c.dir, "--keys", c.keysFile, "--diff"]);
    const first = await w.waitForEvent((e) => e.event === "diff");
    expect(first).toMatchObject({ level: "info", resource: "app", msg: "diff" });
    expect(first.diff).toBe(`===================================================================\n--- /dev/null\n+++ ${dest}\n@@ -0,0 +1,1 @@\n+value 1\n`);
    await c.writeKeys({ "/v": "2" });
    const second = await w.waitForEvent((e) => e.event === "diff" && e !== first);
    expect(second.diff).toBe(`Index: ${dest}\n===================================================================\n--- ${dest}\n+++ ${dest}\n@@ -1,1 +1,1 @@\n-value 1\n+value 2\n`);
  });
});
