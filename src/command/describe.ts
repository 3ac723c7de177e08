/** A command's result in words: the reason it failed, and the one-line report of a failure. */
import type { CommandResult } from "./run-command.js";

/** Lines and characters of a command's output that a one-line report repeats (the log has it all). */
const REPORT_OUTPUT_LINES = 10;
const REPORT_OUTPUT_CHARS = 1000;

/** CommandResult.error: why `ok` is false, in one line. */
export function describeFailure(r: Pick<CommandResult, "exitCode" | "signal" | "timedOut">, timeoutMs: number): string {
  if (r.timedOut) return `timed out after ${timeoutMs} ms`;
  if (r.signal !== null) return `killed by ${r.signal}`;
  // sh's convention for a binary it cannot find; its own message ("sh: 1: foo: not found") is in the output.
  if (r.exitCode === 127) return "command not found (exit status 127)";
  return `exit status ${r.exitCode}`;
}

/**
 * Why a command failed, then the end of what it printed (BIRD's "bird.cfg:12:3 syntax error" is
 * its last line): runCommand's reason names the configured timeout, not the time it took to die.
 */
export function describeCommand(result: CommandResult | undefined): string {
  if (result === undefined) return "not run";
  const status = result.error ?? (result.signal ? `killed by ${result.signal}` : `exit status ${result.exitCode}`);
  const output = outputTail(result.output);
  return output ? `${status}: ${output}` : status;
}

function outputTail(output: string): string {
  const lines = output.trimEnd().split("\n");
  let tail = lines.slice(-REPORT_OUTPUT_LINES).join("\n").trim();
  let cut = lines.length > REPORT_OUTPUT_LINES;
  if (tail.length > REPORT_OUTPUT_CHARS) {
    tail = tail.slice(-REPORT_OUTPUT_CHARS);
    cut = true;
  }
  return cut ? `…${tail}` : tail;
}
