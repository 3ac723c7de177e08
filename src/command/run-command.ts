import { performance } from "node:perf_hooks";
import { describeFailure } from "./describe.js";
import { OutputTail } from "./output-tail.js";
import { wrapCommand } from "./shell.js";
import { takeSpareShell } from "./spare-shell.js";
import { startShell } from "./start-shell.js";
import { drainAfterExit, startDeadline } from "./timeout.js";

export { loadCommandRunner } from "./start-shell.js";

export interface CommandResult {
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  /** stdout and stderr in the order they were written, truncated to the last `outputLimit` bytes. */
  output: string;
  /** Why `ok` is false, in one line: spawn failure, "command not found", exit status, timeout. */
  error?: string;
}

export interface RunCommandOptions {
  cwd?: string;
  timeoutMs: number;
  /** Replaces the environment (as child_process does); unset: inherit perch's. */
  env?: NodeJS.ProcessEnv;
  /** Bytes of output kept (the last ones); default 64 KiB. */
  outputLimit?: number;
  /** Called once the process has been started (or has failed to start), before it is waited for. */
  onSpawned?: () => void;
  /**
   * Run in the spare shell (spare-shell.ts) when one is ready, and want one for the next command:
   * a daemon's check_cmd. Needs `cwd`; not with `env` (the spare has perch's).
   */
  spare?: boolean;
}

const DEFAULT_OUTPUT_LIMIT = 64 * 1024;

/**
 * Runs `command` through `/bin/sh -c`, as confd does, in a process group of its own, so that a timeout
 * kills all it started. Never throws: failing, hanging or not starting is a result with `ok: false`.
 */
export async function runCommand(command: string, opts: RunCommandOptions): Promise<CommandResult> {
  const started = performance.now();
  const tail = new OutputTail(opts.outputLimit ?? DEFAULT_OUTPUT_LIMIT);
  // One pipe for both streams, like confd's CombinedOutput: the output keeps the order in which the
  // command wrote it (two pipes would interleave by arrival).
  const spare = opts.spare && opts.cwd !== undefined && opts.env === undefined ? takeSpareShell(opts.cwd, command) : undefined;
  const subprocess = spare ?? (await startShell(wrapCommand(command), { cwd: opts.cwd, env: opts.env, stdin: "ignore" })).shell;
  opts.onSpawned?.();
  const collect = (chunk: Buffer | string): void => tail.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  // stderr stays attached: a syntax error in `command` is reported before the `exec 2>&1` runs.
  subprocess.stdout?.on("data", collect);
  subprocess.stderr?.on("data", collect);
  const { pid } = subprocess;
  const deadline = startDeadline(pid, opts.timeoutMs);
  // The shell's exit is the command's end: a descendant that left the process group (setsid, a
  // daemon a reload starts) may hold the output pipe for ever, so after the exit the pipe gets a
  // short drain and is then closed on our side. Resolves once the shell has exited and the pipe is
  // closed (by the command, or by us).
  const stopReading = (): void => {
    subprocess.stdout?.destroy();
    subprocess.stderr?.destroy();
  };
  const drain = drainAfterExit(subprocess, stopReading, deadline);
  const result = await subprocess;
  drain.clear();
  deadline.clear();
  const durationMs = performance.now() - started;
  const output = tail.toString();

  if (pid === undefined || (result.exitCode === undefined && result.signal === undefined)) {
    deadline.cancel();
    // execa's first line repeats our wrapped script; the lines after it say what went wrong
    // (e.g. 'The "cwd" option is invalid: /x.'), which Node's own "spawn /bin/sh ENOENT" does not.
    const details = (result.shortMessage ?? "").split("\n").slice(1).join(" ").trim();
    const cause = details || (result.cause instanceof Error ? result.cause.message : "unknown error");
    return { ok: false, exitCode: null, signal: null, timedOut: false, durationMs, output, error: `cannot run command: ${cause}` };
  }

  const outcome = { exitCode: result.exitCode ?? null, signal: result.signal ?? null, timedOut: deadline.passed };
  const ok = !outcome.timedOut && outcome.exitCode === 0;
  return ok ? { ok, ...outcome, durationMs, output } : { ok, ...outcome, durationMs, output, error: describeFailure(outcome, opts.timeoutMs) };
}
