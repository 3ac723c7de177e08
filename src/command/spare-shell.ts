/**
 * A spare shell for a daemon's check_cmd. Node starts a command by forking perch's whole process on
 * its one thread, which takes longer the more memory the daemon holds, and a check runs between a
 * change and its file. The spare is forked while perch is idle and waits on its stdin for the
 * directory to run in and the command (shell.ts, wrapSpareCommand).
 */
import { statSync } from "node:fs";
import path from "node:path";
import { wrapSpareCommand } from "./shell.js";
import { startShell, type Shell } from "./start-shell.js";

let spare: Shell | undefined;
/** The spare was used (or was missing) since the last makeSpareShell. */
let wanted = false;
/** Bumped by retireSpareShell: a spare still starting then is retired as soon as it has started. */
let generation = 0;

/**
 * The spare with `command` handed to it, to run in `cwd`; undefined when there is none ready, or
 * `cwd` is not a directory it can be told, or the command has a NUL byte (the caller then starts a
 * shell the usual way, which reports why). Either way, a spare is wanted again.
 */
export function takeSpareShell(cwd: string, command: string): Shell | undefined {
  wanted = true;
  const dir = path.resolve(cwd);
  if (spare === undefined || dir.includes("\n") || command.includes("\0") || !isDirectory(dir)) return undefined;
  const shell = spare;
  spare = undefined;
  if (shell.exitCode !== null || shell.signalCode !== null) {
    retire(shell);
    return undefined;
  }
  holdOpen(shell, true);
  // A shell that ended meanwhile has closed its stdin: the result then reports its exit.
  shell.stdin?.on("error", () => undefined);
  shell.stdin?.end(`${dir}\n${command}`);
  return shell;
}

/** Starts the spare when one was wanted: called while perch is idle. It does not keep the process alive. */
export async function makeSpareShell(): Promise<void> {
  if (!wanted || spare !== undefined) return;
  wanted = false;
  const startedIn = generation;
  const { shell } = await startShell(wrapSpareCommand(), { stdin: "pipe" });
  if (shell.pid === undefined) return;
  holdOpen(shell, false);
  if (startedIn !== generation || spare !== undefined) retire(shell);
  else spare = shell;
}

/** Ends the spare (its shell reads the end of its stdin and exits), and wants none. */
export function retireSpareShell(): void {
  if (spare !== undefined) retire(spare);
  spare = undefined;
  wanted = false;
  generation++;
}

function retire(shell: Shell): void {
  shell.stdin?.on("error", () => undefined);
  shell.stdin?.end();
}

/** Whether the shell and its pipes keep the event loop alive: only while its command runs. */
function holdOpen(shell: Shell, hold: boolean): void {
  for (const handle of [shell, shell.stdin, shell.stdout, shell.stderr]) {
    const refable = handle as { ref?: () => void; unref?: () => void } | null;
    if (hold) refable?.ref?.();
    else refable?.unref?.();
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
