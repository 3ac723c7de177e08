import { performance } from "node:perf_hooks";

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
}

const DEFAULT_OUTPUT_LIMIT = 64 * 1024;
const KILL_GRACE_MS = 2_000;

/**
 * Keeps the last `limit` bytes of a stream in bounded memory, counting what it dropped, so a
 * command printing megabytes costs at most `limit` bytes (plus one chunk).
 */
class OutputTail {
  private chunks: Buffer[] = [];
  private kept = 0;
  private omitted = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.kept > this.limit) {
      const first = this.chunks[0];
      if (first === undefined) break;
      const excess = this.kept - this.limit;
      if (first.length <= excess) {
        this.chunks.shift();
        this.drop(first.length);
      } else {
        this.chunks[0] = first.subarray(excess);
        this.drop(excess);
      }
    }
  }

  toString(): string {
    let tail = Buffer.concat(this.chunks);
    let omitted = this.omitted;
    if (omitted > 0) {
      // The cut may fall inside a multi-byte UTF-8 character: drop its continuation bytes rather
      // than print a replacement character.
      let start = 0;
      while (start < tail.length && start < 3 && ((tail[start] ?? 0) & 0xc0) === 0x80) start++;
      tail = tail.subarray(start);
      omitted += start;
      return `[... ${omitted} bytes omitted]\n${tail.toString("utf8")}`;
    }
    return tail.toString("utf8");
  }

  private drop(bytes: number): void {
    this.kept -= bytes;
    this.omitted += bytes;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: every member of the group is already gone.
  }
}

function describeFailure(r: Pick<CommandResult, "exitCode" | "signal" | "timedOut">, timeoutMs: number): string {
  if (r.timedOut) return `timed out after ${timeoutMs} ms`;
  if (r.signal !== null) return `killed by ${r.signal}`;
  // sh's convention for a binary it cannot find; its own message ("sh: 1: foo: not found") is in the output.
  if (r.exitCode === 127) return "command not found (exit status 127)";
  return `exit status ${r.exitCode}`;
}

/**
 * The script the shell runs. The shell waits for the command's background jobs and, on the
 * timeout's SIGTERM, lives on just long enough to reap its children: a job it left behind would
 * otherwise be adopted by PID 1, and when perch itself is PID 1 (a container's entrypoint) no one
 * would ever reap it. The command's own exit status is kept; a SIGTERM'd run exits 143.
 */
export function wrapCommand(command: string): string {
  return ["exec 2>&1", "trap 'perch_term=1' TERM", command, "perch_status=$?", "wait", '[ -z "$perch_term" ] || exit 143', "exit $perch_status"].join("\n");
}

/** perch's own secret: no check or reload command needs it (SECURITY.md). */
const WITHHELD_VARIABLES: ReadonlySet<string> = new Set(["ETCD_PASSWORD"]);

function commandEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !WITHHELD_VARIABLES.has(name)));
}

let execaModule: Promise<typeof import("execa")> | undefined;

/**
 * execa, imported on first use: it is a large share of a cold start (14–24 ms measured), and many
 * renders run no command. A one-shot calls this early, so that the import runs while it waits for
 * etcd's answer rather than before its first check.
 */
export function loadCommandRunner(): Promise<typeof import("execa")> {
  execaModule ??= import("execa");
  return execaModule;
}

/**
 * Runs `command` through `/bin/sh -c`, as confd does, in a process group of its own so that a
 * timeout kills everything it started (SIGTERM, then SIGKILL after 2 s), not just the shell.
 * Never throws: a command that fails, hangs or cannot start is a result with `ok: false`.
 */
export async function runCommand(command: string, opts: RunCommandOptions): Promise<CommandResult> {
  const started = performance.now();
  const tail = new OutputTail(opts.outputLimit ?? DEFAULT_OUTPUT_LIMIT);
  // One pipe for both streams, like confd's CombinedOutput: the output keeps the order in which the
  // command wrote it. (Two pipes read by us would interleave by arrival, which is not the same.)
  const { execa } = await loadCommandRunner();
  const subprocess = execa("/bin/sh", ["-c", wrapCommand(command)], {
    cwd: opts.cwd,
    env: commandEnv(opts.env ?? process.env),
    extendEnv: false,
    detached: true,
    cleanup: false,
    stdin: "ignore",
    buffer: false,
    reject: false,
  });
  opts.onSpawned?.();
  const collect = (chunk: Buffer | string): void => tail.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  // stderr stays attached: a syntax error in `command` is reported before the `exec 2>&1` runs.
  subprocess.stdout?.on("data", collect);
  subprocess.stderr?.on("data", collect);

  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const { pid } = subprocess;
  const timeoutTimer =
    pid === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          signalGroup(pid, "SIGTERM");
          killTimer = setTimeout(() => signalGroup(pid, "SIGKILL"), KILL_GRACE_MS);
          // The result may be ready before the grace period ends (the shell died on SIGTERM); the
          // SIGKILL for stragglers still fires, but must not keep perch alive on its own.
          killTimer.unref();
        }, opts.timeoutMs);

  // Resolves once the shell has exited and every holder of the output pipe has closed it.
  const result = await subprocess;
  clearTimeout(timeoutTimer);
  const durationMs = performance.now() - started;
  const output = tail.toString();

  if (pid === undefined || (result.exitCode === undefined && result.signal === undefined)) {
    clearTimeout(killTimer);
    // execa's first line repeats our wrapped script; the lines after it say what went wrong
    // (e.g. 'The "cwd" option is invalid: /x.'), which Node's own "spawn /bin/sh ENOENT" does not.
    const details = (result.shortMessage ?? "").split("\n").slice(1).join(" ").trim();
    const cause = details || (result.cause instanceof Error ? result.cause.message : "unknown error");
    return {
      ok: false,
      exitCode: null,
      signal: null,
      timedOut: false,
      durationMs,
      output,
      error: `cannot run command: ${cause}`,
    };
  }

  const outcome = { exitCode: result.exitCode ?? null, signal: result.signal ?? null, timedOut };
  const ok = !timedOut && outcome.exitCode === 0;
  return ok
    ? { ok, ...outcome, durationMs, output }
    : { ok, ...outcome, durationMs, output, error: describeFailure(outcome, opts.timeoutMs) };
}
