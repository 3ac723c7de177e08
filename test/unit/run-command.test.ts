import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCommand } from "../../src/command/run-command.js";
import { useTempDir } from "../helpers/temp-dir.js";

const tmp = useTempDir("perch-run-");

/**
 * Whether `pid` is still running. A killed orphan is reparented to PID 1, and when PID 1 does not
 * reap (as in minimal containers) it lingers as a zombie, which signal 0 still reaches: a zombie
 * runs nothing, so it counts as gone.
 */
async function isRunning(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // Format: "pid (comm) state ...": comm may hold spaces, so read after its closing parenthesis.
  return stat !== "" && stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}

describe("runCommand", () => {
  it("reports success with the output", async () => {
    const r = await runCommand("echo hello; echo world", { timeoutMs: 5_000 });
    expect(r).toMatchObject({ ok: true, exitCode: 0, signal: null, timedOut: false, output: "hello\nworld\n" });
    expect(r.error).toBeUndefined();
    expect(r.durationMs).toBeGreaterThan(0);
  });

  it("reports a non-zero exit with stdout and stderr in the order written", async () => {
    const r = await runCommand("echo one; echo two >&2; echo three; exit 3", { timeoutMs: 5_000 });
    expect(r).toMatchObject({
      ok: false,
      exitCode: 3,
      signal: null,
      timedOut: false,
      output: "one\ntwo\nthree\n",
      error: "exit status 3",
    });
  });

  it("runs in cwd with the given environment", async () => {
    const r = await runCommand('pwd; echo "$PERCH_TEST_VALUE"', {
      cwd: tmp.path,
      timeoutMs: 5_000,
      env: { PATH: process.env.PATH, PERCH_TEST_VALUE: "from-env" },
    });
    expect(r.output).toBe(`${tmp.path}\nfrom-env\n`);
  });

  it("on timeout kills the whole process group, grandchildren included", async () => {
    const pidFile = path.join(tmp.path, "grandchild.pid");
    // The inner shell records its pid and becomes `sleep` (exec), a grandchild of the runner that
    // also holds the output pipe open.
    const command = `sh -c 'echo $$ > ${pidFile}; exec sleep 100' & sleep 100`;
    const r = await runCommand(command, { timeoutMs: 500 });
    expect(r).toMatchObject({ ok: false, timedOut: true, error: "timed out after 500 ms" });
    expect(r.durationMs).toBeGreaterThanOrEqual(500);
    expect(r.durationMs).toBeLessThan(5_000);
    const grandchild = Number(await readFile(pidFile, "utf8"));
    expect(grandchild).toBeGreaterThan(0);
    expect(await isRunning(grandchild)).toBe(false);
  });

  it("a descendant that escaped the process group (setsid) cannot hold it past the timeout", async () => {
    const pidFile = path.join(tmp.path, "escaped.pid");
    // setsid: a new session, so the group's SIGTERM/SIGKILL never reach it; it holds the output pipe.
    const r = await runCommand(`setsid sleep 30 & echo $! > ${pidFile}; wait`, { timeoutMs: 500 });
    const escaped = Number(await readFile(pidFile, "utf8"));
    try {
      expect(r).toMatchObject({ ok: false, timedOut: true, error: "timed out after 500 ms" });
      // SIGTERM at 500 ms ends the shell at once; the pipe gets 200 ms more, not the sleep's 30 s.
      expect(r.durationMs).toBeLessThan(1_500);
    } finally {
      process.kill(escaped, "SIGKILL");
    }
  });

  it("a command that leaves a daemon holding its output ends when its shell does", async () => {
    const pidFile = path.join(tmp.path, "daemon.pid");
    // The subshell starts the "daemon" and exits: the shell's wait is over, the pipe stays open.
    const r = await runCommand(`(setsid sleep 30 & echo $! > ${pidFile}); echo started`, { timeoutMs: 10_000 });
    const daemon = Number(await readFile(pidFile, "utf8"));
    try {
      expect(r).toMatchObject({ ok: true, exitCode: 0, timedOut: false, output: "started\n" });
      expect(r.durationMs).toBeLessThan(1_500);
      expect(await isRunning(daemon)).toBe(true);
    } finally {
      process.kill(daemon, "SIGKILL");
    }
  });

  it("escalates to SIGKILL for a process that ignores SIGTERM", async () => {
    const pidFile = path.join(tmp.path, "stubborn.pid");
    const r = await runCommand(`trap '' TERM; echo $$ > ${pidFile}; while :; do sleep 0.05; done`, { timeoutMs: 300 });
    expect(r).toMatchObject({ ok: false, timedOut: true, signal: "SIGKILL" });
    // SIGTERM at 300 ms, SIGKILL 2 s later.
    expect(r.durationMs).toBeGreaterThanOrEqual(2_300);
    expect(await isRunning(Number(await readFile(pidFile, "utf8")))).toBe(false);
  });

  it("a timed-out command stops at its next statement, whatever options and IFS it set", async () => {
    // The shell traps SIGTERM to reap its jobs; the trap must not let the script go on to `echo after`.
    const r = await runCommand("set -euf; IFS=x; echo before; sleep 5; echo after", { timeoutMs: 300 });
    expect(r).toMatchObject({ ok: false, timedOut: true, exitCode: 143 });
    expect(r.output).toContain("before\n");
    expect(r.output).not.toContain("after");
    expect(r.durationMs).toBeLessThan(1_500);
  });

  it("reaps a job that ignores SIGTERM before the shell itself is killed (no orphan for PID 1)", async () => {
    const pidFile = path.join(tmp.path, "deaf.pid");
    const r = await runCommand(`sh -c "trap '' TERM; exec sleep 30" & echo $! > ${pidFile}; wait`, { timeoutMs: 300 });
    // SIGTERM at 300 ms; 2 s later SIGKILL to the job, which the shell, still alive, reaps and exits.
    expect(r).toMatchObject({ ok: false, timedOut: true, exitCode: 143 });
    expect(r.durationMs).toBeGreaterThanOrEqual(2_300);
    expect(await isRunning(Number(await readFile(pidFile, "utf8")))).toBe(false);
  });

  it("keeps only the last outputLimit bytes of a huge output, in bounded memory", async () => {
    const total = 20_000_000;
    const r = await runCommand(`head -c ${total} /dev/zero | tr '\\0' x; printf END`, { timeoutMs: 30_000 });
    expect(r.ok).toBe(true);
    const limit = 64 * 1024;
    const marker = `[... ${total + 3 - limit} bytes omitted]\n`;
    expect(r.output.startsWith(marker)).toBe(true);
    expect(r.output.length).toBe(marker.length + limit);
    expect(r.output.endsWith(`${"x".repeat(limit - 3)}END`)).toBe(true);
  });

  it("truncates at a custom limit without splitting a UTF-8 character", async () => {
    expect((await runCommand("printf abcdef", { timeoutMs: 5_000, outputLimit: 3 })).output).toBe(
      "[... 3 bytes omitted]\ndef",
    );
    // "é" is two bytes: a 3-byte tail of "aébc" starts inside it, so its second byte is dropped too.
    expect((await runCommand("printf 'a\\303\\251bc'", { timeoutMs: 5_000, outputLimit: 3 })).output).toBe(
      "[... 3 bytes omitted]\nbc",
    );
  });

  it("reports a missing binary with the shell's message", async () => {
    const r = await runCommand("perch-no-such-binary --version", { timeoutMs: 5_000 });
    expect(r).toMatchObject({ ok: false, exitCode: 127, timedOut: false, error: "command not found (exit status 127)" });
    expect(r.output).toMatch(/perch-no-such-binary: (command )?not found\n$/);
  });

  it("reports a command that cannot start without throwing", async () => {
    const missing = path.join(tmp.path, "missing");
    const r = await runCommand("true", { cwd: missing, timeoutMs: 5_000 });
    expect(r).toMatchObject({ ok: false, exitCode: null, signal: null, timedOut: false, output: "" });
    expect(r.error).toContain(`cannot run command: The "cwd" option is invalid: ${missing}.`);
  });
});
