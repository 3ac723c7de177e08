import { readdirSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { runCommand, type RunCommandOptions } from "../../src/command/run-command.js";
import { makeSpareShell, retireSpareShell } from "../../src/command/spare-shell.js";
import { useTempDir } from "../helpers/temp-dir.js";

const tmp = useTempDir("perch-spare-");

/** This process's child shells, from /proc ("pid (comm) state ppid ..."). */
function childShells(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const [, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(ppid) === process.pid && stat.includes("(sh)")) pids.push(Number(entry));
  }
  return pids;
}

/** Runs `command` with a spare made ready first, and says whether the spare ran it (its `$$` was a shell started before the call). */
async function inSpare(command: string, opts: Omit<RunCommandOptions, "spare">): Promise<Awaited<ReturnType<typeof runCommand>> & { ranInSpare: boolean }> {
  await runCommand("true", { cwd: tmp.path, timeoutMs: 5_000, spare: true });
  await makeSpareShell();
  const before = childShells();
  const result = await runCommand(`echo "shell $$"; ${command}`, { ...opts, spare: true });
  const pid = Number(/^shell (\d+)\n/.exec(result.output)?.[1]);
  return { ...result, output: result.output.replace(/^shell \d+\n/, ""), ranInSpare: before.includes(pid) };
}

describe("a spare shell (a daemon's check_cmd)", () => {
  afterEach(() => retireSpareShell());

  it("runs the command it is handed in the directory given, as a fresh shell would", async () => {
    const dir = path.join(tmp.path, "a dir with 'quotes' and spaces");
    await mkdir(dir);
    // Several lines, no newline at the end, backslashes and quotes kept, stdin at its end.
    const command = "printf '%s\\n' 'a\\b' \"$((1 + 2))\"\nx=$(pwd)\necho \"$x\"; cat; exit 4";
    const fresh = await runCommand(command, { cwd: dir, timeoutMs: 5_000 });
    const spare = await inSpare(command, { cwd: dir, timeoutMs: 5_000 });
    expect(spare.ranInSpare).toBe(true);
    expect(fresh).toMatchObject({ ok: false, exitCode: 4, output: `a\\b\n3\n${dir}\n` });
    expect(spare).toMatchObject({ ok: false, exitCode: 4, output: fresh.output, error: "exit status 4" });
  });

  it("on timeout kills the command's process group, as a fresh shell's", async () => {
    const pidFile = path.join(tmp.path, "sleep.pid");
    const r = await inSpare(`sleep 30 & echo $! > '${pidFile}'; wait`, { cwd: tmp.path, timeoutMs: 300 });
    expect(r).toMatchObject({ ranInSpare: true, ok: false, timedOut: true, error: "timed out after 300 ms" });
    expect(r.durationMs).toBeLessThan(2_000);
    const sleeper = Number(readFileSync(pidFile, "utf8"));
    expect(() => process.kill(sleeper, 0)).toThrow();
  });

  it("is not used for a directory that does not exist: the usual start reports it", async () => {
    const missing = path.join(tmp.path, "missing");
    const r = await inSpare("true", { cwd: missing, timeoutMs: 5_000 });
    expect(r).toMatchObject({ ranInSpare: false, ok: false, exitCode: null });
    expect(r.error).toContain(`cannot run command: The "cwd" option is invalid: ${missing}.`);
  });

  it("is not handed a command with a NUL byte: it meets the usual start's refusal, as without a spare", async () => {
    await runCommand("true", { cwd: tmp.path, timeoutMs: 5_000, spare: true });
    const prior = childShells();
    await makeSpareShell();
    const [spare] = childShells().filter((pid) => !prior.includes(pid));
    await expect(runCommand("echo a\0b", { cwd: tmp.path, timeoutMs: 5_000, spare: true })).rejects.toThrow(/null bytes/);
    await expect(runCommand("echo a\0b", { cwd: tmp.path, timeoutMs: 5_000 })).rejects.toThrow(/null bytes/);
    // The spare is still there, waiting, for the next command.
    expect(spare).toBeGreaterThan(0);
    expect(childShells()).toContain(spare);
  });

  it("is made only when one was used or missing, and retiring it ends its shell", async () => {
    const before = childShells();
    await makeSpareShell();
    expect(childShells().filter((pid) => !before.includes(pid))).toEqual([]);
    await runCommand("true", { cwd: tmp.path, timeoutMs: 5_000, spare: true });
    await makeSpareShell();
    const [spare] = childShells().filter((pid) => !before.includes(pid));
    expect(spare).toBeGreaterThan(0);
    retireSpareShell();
    for (let i = 0; i < 100 && childShells().includes(spare as number); i++) await sleep(20);
    expect(childShells()).not.toContain(spare);
  });
});
