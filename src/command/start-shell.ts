/** `/bin/sh -c` started for a command: in a process group of its own, its stdout and stderr piped. */
import type { ResultPromise } from "execa";
import { commandEnv } from "./shell.js";

let execaModule: Promise<typeof import("execa")> | undefined;

/**
 * execa, imported on first use: it is a large share of a cold start, and many renders run no
 * command. A one-shot calls this early, so that the import runs while it waits for etcd's answer.
 */
export function loadCommandRunner(): Promise<typeof import("execa")> {
  execaModule ??= import("execa");
  return execaModule;
}

export type Shell = ResultPromise<{ stdin: "ignore" | "pipe"; buffer: false; reject: false }>;

export interface ShellOptions {
  cwd?: string;
  /** Replaces the environment (as child_process does); unset: inherit perch's. */
  env?: NodeJS.ProcessEnv;
  /** "pipe" for a spare shell, which reads its command there (spare-shell.ts). */
  stdin: "ignore" | "pipe";
}

/**
 * In a process group of its own (detached), so that a timeout kills all it started. The shell comes
 * in an object: awaited on its own it would be its result. Never rejects: a shell that cannot start
 * resolves to a result without exit code or signal.
 */
export async function startShell(script: string, opts: ShellOptions): Promise<{ shell: Shell }> {
  const { execa } = await loadCommandRunner();
  const shell = execa("/bin/sh", ["-c", script], {
    cwd: opts.cwd,
    env: commandEnv(opts.env ?? process.env),
    extendEnv: false,
    detached: true,
    cleanup: false,
    stdin: opts.stdin,
    buffer: false,
    reject: false,
  });
  return { shell };
}
