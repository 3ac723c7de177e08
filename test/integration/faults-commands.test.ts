// Faults in check_cmd and reload_cmd, met by `perch watch` (file store, a real child process): a
// command that fails, hangs past its timeout or prints megabytes, and a reload binary that does not
// exist. Each is logged with the resource, the command and its (bounded) output; the last good
// file stays; the daemon goes on and installs the next good render.
import { existsSync, readFileSync } from "node:fs";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resourceToml, runPerch, useConfdir } from "../helpers/confdir.js";
import { startWatch, waitFor, type WatchProcess } from "../helpers/watch-process.js";

type Event = Record<string, unknown>;

const c = useConfdir();
let w: WatchProcess | undefined;
let dest: string;

beforeEach(async () => {
  dest = path.join(c.out, "app.cfg");
  await c.writeTemplate("app.hbs", 'value {{getv "/v"}}\n');
});
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

/** `extra` goes into the resource's [template] table; single-quoted TOML strings keep shell quoting as written. */
async function resource(extra: string): Promise<void> {
  await c.writeResource("app", resourceToml("app.hbs", dest, ["/v"], extra));
}

async function watch(): Promise<WatchProcess> {
  w = await startWatch(["--confdir", c.dir, "--backend", "file", "--keys", c.keysFile, "--wait", "10ms:50ms"]);
  return w;
}

/** Alive and not a zombie (an orphan's zombie waits for a reaper that may be slow in a container). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function stageFiles(): Promise<string[]> {
  return (await readdir(c.out)).filter((f) => f.includes(".perch-stage-"));
}

const isEvent = (fields: Event) => (e: Event) => Object.entries(fields).every(([k, v]) => e[k] === v);

describe("check_cmd faults", () => {
  it("a failing check keeps the last good file and logs the resource, the reason and the output; the next good value goes in", async () => {
    await resource(`check_cmd = 'if grep -q evil {{.src}}; then echo "rejected: $(cat {{.src}})"; exit 3; fi'`);
    await c.writeKeys({ "/v": "good" });
    await watch();
    await w?.waitForFile(dest, (s) => s === "value good\n");

    await c.writeKeys({ "/v": "evil" });
    const failed = await w?.waitForEvent(isEvent({ event: "write", outcome: "check-failed" }));
    expect(failed).toMatchObject({
      level: "error",
      resource: "app",
      dest,
      err: "check_cmd failed: exit status 3: rejected: value evil",
      output: "rejected: value evil\n",
      msg: "write failed; destination left as it was",
    });
    expect(await readFile(dest, "utf8")).toBe("value good\n");
    expect(await stageFiles()).toEqual([]);
    // Counted when the pass ends, just after the event.
    await waitFor("the failed check counted", async () => ((await w?.metric("perch_checks_total", { resource: "app", outcome: "failed" })) === 1 ? true : undefined));

    await c.writeKeys({ "/v": "better" });
    await w?.waitForFile(dest, (s) => s === "value better\n");
    expect(w?.exited).toBe(false);
  });

  it("a check that hangs past check_timeout is killed with everything it started; the daemon goes on", async () => {
    const pidFile = path.join(c.dir, "check.pid");
    await resource(`check_timeout = "300ms"\ncheck_cmd = 'if grep -q hang {{.src}}; then sleep 30 & echo $! > ${pidFile}; wait; fi'`);
    await c.writeKeys({ "/v": "good" });
    await watch();
    await w?.waitForFile(dest, (s) => s === "value good\n");

    await c.writeKeys({ "/v": "hang" });
    const failed = await w?.waitForEvent(isEvent({ event: "write", outcome: "check-failed" }));
    expect(failed).toMatchObject({ resource: "app", dest, err: "check_cmd failed: timed out after 300 ms", output: "" });
    expect(failed?.durationMs).toBeLessThan(2_500);
    const sleeper = Number(await readFile(pidFile, "utf8"));
    await waitFor("the check's background sleep to be killed", () => (alive(sleeper) ? undefined : true), 5_000);
    expect(await readFile(dest, "utf8")).toBe("value good\n");
    expect(await stageFiles()).toEqual([]);

    await c.writeKeys({ "/v": "fine" });
    await w?.waitForFile(dest, (s) => s === "value fine\n");
  });

  it("a check whose child escaped its process group (setsid) still ends at check_timeout (issue 19)", async () => {
    const pidFile = path.join(c.dir, "escaped.pid");
    await resource(`check_timeout = "2s"\ncheck_cmd = 'setsid sleep 100 & echo $! > ${pidFile}'`);
    await c.writeKeys({ "/v": "1" });
    const started = performance.now();
    const r = await runPerch(["render", "--confdir", c.dir, "--backend", "file", "--keys", c.keysFile]);
    const took = performance.now() - started;
    const escaped = Number(await readFile(pidFile, "utf8"));
    try {
      expect(r.stdout).toMatch(/^check-failed\s+app\s+.*\n\s+check_cmd failed: timed out after 2000 ms$/);
      expect(r.exitCode).toBe(1);
      // The timeout, the pipe's short drain and perch's own start: not the sleep's 100 s.
      expect(took).toBeLessThan(4_000);
      expect(existsSync(dest)).toBe(false);
    } finally {
      process.kill(escaped, "SIGKILL");
    }
  });

  it("gets the stage file's absolute path, also under a relative --root (the check runs in the destination's directory)", async () => {
    await resource(`check_cmd = 'grep -q "^value ok" {{.src}}'`);
    await c.writeKeys({ "/v": "ok" });
    const r = await runPerch(["render", "--confdir", c.dir, "--backend", "file", "--keys", c.keysFile, "--root", "rel-root"], { cwd: c.dir });
    const relative = path.join("rel-root", dest);
    expect(r.stdout).toBe(`written       app              ${relative}`);
    expect(r.exitCode).toBe(0);
    expect(await readFile(path.join(c.dir, relative), "utf8")).toBe("value ok\n");
  });

  it("a check printing megabytes costs 64 KiB: the log carries the last 64 KiB, the message the last line", async () => {
    await writeFile(dest, "old\n");
    await resource(`check_cmd = 'head -c 5000000 /dev/zero | tr "\\0" x; echo; echo LAST-LINE; exit 1'`);
    await c.writeKeys({ "/v": "new" });
    await watch();
    const failed = await w?.waitForEvent(isEvent({ event: "write", outcome: "check-failed" }), 30_000);
    const printed = 5_000_000 + 1 + "LAST-LINE\n".length;
    const kept = 64 * 1024;
    const output = String(failed?.output);
    expect(output.startsWith(`[... ${printed - kept} bytes omitted]\n`)).toBe(true);
    expect(output.length).toBe(`[... ${printed - kept} bytes omitted]\n`.length + kept);
    expect(output.endsWith("xxxx\nLAST-LINE\n")).toBe(true);
    // The one-line reason repeats the end of the output, at most 1,000 characters of it.
    expect(failed?.err).toBe(`check_cmd failed: exit status 1: …${"x".repeat(990)}\nLAST-LINE`);
    expect(JSON.stringify(failed).length).toBeLessThan(70_000);
    expect(await readFile(dest, "utf8")).toBe("old\n");
    expect(w?.exited).toBe(false);
  });
});

describe("reload_cmd faults", () => {
  it("a failing reload is logged once with its output and retried with backoff until it works", async () => {
    const log = path.join(c.dir, "reload.log");
    const okFlag = path.join(c.dir, "bird-is-back");
    const command = `echo attempt >> ${log}; test -e ${okFlag} || { echo "bird: control socket gone" >&2; exit 1; }`;
    await resource(`reload_cmd = '${command}'`);
    await c.writeKeys({ "/v": "1" });
    await watch();
    await w?.waitForFile(dest, (s) => s === "value 1\n");

    // The retry series' one error line (the pass's own line is at debug: the series reports it).
    const failed = await w?.waitForEvent(isEvent({ event: "reload", outcome: "failed", level: "error" }));
    expect(failed).toMatchObject({
      command,
      resources: ["app"],
      exitCode: 1,
      timedOut: false,
      err: "exit status 1: bird: control socket gone",
      output: "bird: control socket gone\n",
      attempt: 1,
      retryInMs: 1_000,
      msg: "reload failed; retrying with backoff until it succeeds",
    });
    const retry = await w?.waitForEvent(isEvent({ event: "reload", outcome: "failed", attempt: 2 }), 5_000);
    expect(retry).toMatchObject({ level: "debug", err: "exit status 1: bird: control socket gone", retryInMs: 2_000 });

    await writeFile(okFlag, "");
    await w?.waitForEvent(isEvent({ event: "reload", outcome: "recovered", attempts: 3 }), 5_000);
    expect(w?.events.filter(isEvent({ event: "reload", level: "error" }))).toHaveLength(1);
    expect(await w?.metric("perch_reloads_total", { outcome: "failed" })).toBe(2);
    expect(await w?.metric("perch_reloads_total", { outcome: "ok" })).toBe(1);
    expect((await readFile(log, "utf8")).split("\n").filter(Boolean)).toHaveLength(3);

    // The daemon went on all along: the next change is written and reloaded at once.
    await c.writeKeys({ "/v": "2" });
    await w?.waitForFile(dest, (s) => s === "value 2\n");
    await waitFor("the fourth reload", async () => ((await w?.metric("perch_reloads_total", { outcome: "ok" })) === 2 ? true : undefined));
  });

  it("a reload that hangs past reload_timeout is killed with its process group; the retry goes through", async () => {
    const pidFile = path.join(c.dir, "reload.pid");
    const hang = path.join(c.dir, "hang");
    await writeFile(hang, "");
    await resource(`reload_timeout = "300ms"\nreload_cmd = 'if test -e ${hang}; then sleep 30 & echo $! > ${pidFile}; wait; fi'`);
    await c.writeKeys({ "/v": "1" });
    await watch();
    await w?.waitForFile(dest, (s) => s === "value 1\n");

    const failed = await w?.waitForEvent(isEvent({ event: "reload", outcome: "failed" }));
    expect(failed).toMatchObject({ resources: ["app"], timedOut: true, err: "timed out after 300 ms", output: "" });
    const sleeper = Number(await readFile(pidFile, "utf8"));
    await waitFor("the reload's background sleep to be killed", () => (alive(sleeper) ? undefined : true), 5_000);

    await rm(hang);
    await w?.waitForEvent(isEvent({ event: "reload", outcome: "recovered", attempts: 2 }), 5_000);
    await c.writeKeys({ "/v": "2" });
    await w?.waitForFile(dest, (s) => s === "value 2\n");
    expect(w?.exited).toBe(false);
  });

  it("a reload that starts a background daemon holding its output returns when its shell does, and is not retried (issue 19)", async () => {
    const pids = path.join(c.dir, "daemons");
    // The subshell leaves a session-leading "daemon" holding stdout, as a reload starting one would.
    await resource(`reload_timeout = "2s"\nreload_cmd = '(setsid sleep 100 & echo $! >> ${pids}); echo started'`);
    await c.writeKeys({ "/v": "1" });
    await watch();
    try {
      const reloaded = await w?.waitForEvent(isEvent({ event: "reload" }));
      expect(reloaded).toMatchObject({ outcome: "ok", output: "started\n" });
      expect(reloaded?.durationMs).toBeLessThan(1_500);
      await c.writeKeys({ "/v": "2" });
      await w?.waitForFile(dest, (s) => s === "value 2\n");
      await waitFor("the second reload", () => (w?.events.filter(isEvent({ event: "reload", outcome: "ok" })).length === 2 ? true : undefined), 5_000);
      await new Promise((r) => setTimeout(r, 1_000));
      // One daemon per change, none from retries.
      expect((await readFile(pids, "utf8")).trim().split("\n")).toHaveLength(2);
    } finally {
      for (const pid of (await readFile(pids, "utf8").catch(() => "")).split("\n").filter(Boolean)) process.kill(Number(pid), "SIGKILL");
    }
  });

  it("a reload binary that does not exist: the shell's own message, and the daemon goes on", async () => {
    await resource(`reload_cmd = "/nonexistent/bin/reload-bird --all"`);
    await c.writeKeys({ "/v": "1" });
    await watch();
    await w?.waitForFile(dest, (s) => s === "value 1\n");
    const failed = await w?.waitForEvent(isEvent({ event: "reload", outcome: "failed" }));
    expect(failed).toMatchObject({ command: "/nonexistent/bin/reload-bird --all", exitCode: 127, err: "command not found (exit status 127)" });
    // dash's words; the line number is that of the command inside perch's wrapper script.
    expect(failed?.output).toMatch(/^\/bin\/sh: \d+: \/nonexistent\/bin\/reload-bird: not found\n$/);
    await c.writeKeys({ "/v": "2" });
    await w?.waitForFile(dest, (s) => s === "value 2\n");
    expect(w?.exited).toBe(false);
  });

  it("commands do not see perch's etcd password", async () => {
    const seen = path.join(c.dir, "seen");
    await resource(`check_cmd = 'echo "check: \${ETCD_PASSWORD:-withheld} \${ETCD_USERNAME:-none}" >> ${seen}'\nreload_cmd = 'echo "reload: \${ETCD_PASSWORD:-withheld} \${ETCD_USERNAME:-none}" >> ${seen}'`);
    await c.writeKeys({ "/v": "1" });
    const r = await runPerch(["render", "--confdir", c.dir, "--backend", "file", "--keys", c.keysFile], { env: { ETCD_USERNAME: "root", ETCD_PASSWORD: "s3cret-for-etcd-only" } });
    expect(r.exitCode).toBe(0);
    expect(await readFile(seen, "utf8")).toBe("check: withheld root\nreload: withheld root\n");
  });

  it("perch render names a failed reload with the end of its output, and exits 1", async () => {
    await resource(`reload_cmd = "/nonexistent/bin/reload-bird --all"`);
    await c.writeKeys({ "/v": "1" });
    const r = await runPerch(["render", "--confdir", c.dir, "--backend", "file", "--keys", c.keysFile]);
    expect(r.exitCode).toBe(1);
    const [written, reload, ...rest] = r.stdout.split("\n");
    expect(written).toBe(`written       app              ${dest}`);
    expect(reload).toMatch(/^reload-failed \/nonexistent\/bin\/reload-bird --all: command not found \(exit status 127\): \/bin\/sh: \d+: \/nonexistent\/bin\/reload-bird: not found$/);
    expect(rest).toEqual([]);
    expect(existsSync(dest)).toBe(true);
  });
});
