/** What a pass reports per resource, shared by its steps. */
import type { CommandResult } from "../command/run-command.js";
import type { PassOptions } from "./sync-resources.js";

export type Outcome = "written" | "unchanged" | "would-write" | "render-failed" | "check-failed" | "failed";

export const FAILED: ReadonlySet<Outcome> = new Set(["render-failed", "check-failed", "failed"]);

export interface ResourceReport {
  resource: string;
  dest: string;
  outcome: Outcome;
  error?: string;
  diff?: string;
  check?: CommandResult;
  inPlace?: boolean;
  renderMs: number;
  writeMs: number;
  /** The stage file's fsync, part of writeMs (see WriteResult.fsyncMs); not with overlapRenders. */
  fsyncMs?: number;
}

/**
 * The level of a failure's log line. A one-shot's report (stdout) carries each failure with its
 * error and output, so there the line is at debug and a CI log shows the failure once; the daemon
 * has no report, its log is the record, once per series: the same failure again, on a retry, is at debug.
 */
export function failureLevel(opts: Pick<PassOptions, "reportsFailures" | "knownFailures">, resource: string, error: string | undefined): "error" | "debug" {
  if (opts.reportsFailures === true) return "debug";
  const known = opts.knownFailures?.get(resource);
  return known !== undefined && known.error === error ? "debug" : "error";
}

/** Milliseconds to a tenth, for the log. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}
