/** What a pass reports per resource, shared by its steps. */
import type { CommandResult } from "../command/run-command.js";

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

/** Milliseconds to a tenth, for the log. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}
