/**
 * Installs a file as README.md's "Writing files" describes: compare, stage beside the destination,
 * check, rename. Each step is a file of src/write/.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { CommandResult } from "../command/run-command.js";
import type { RenderedText } from "../render/rendered-text.js";
import { runCheck } from "./check.js";
import { FileContent } from "./content.js";
import { lookAtDestination, settleLook, upToDate, type DestinationLook } from "./destination.js";
import { fillAndClose, fillSyncAndClose } from "./fill.js";
import { startTimedFsync } from "./fsync.js";
import { install } from "./install.js";
import { wantedOwnership, type Ownership } from "./ownership.js";
import { createStageFile, firstVisit, keepStageCopy, newStagePath, removeStage, removeStaleStages } from "./stage-file.js";
import { describeStepFailure } from "./step.js";

export interface WritePolicy {
  /** Unset: keep the existing file's mode, or 0o644 for a new file. */
  mode?: number;
  /** Unset: keep the existing file's owner, or the current user for a new file. */
  uid?: number;
  gid?: number;
  /** Raw confd-style command; `{{.src}}` and `{{src}}` are replaced by the stage file's path. */
  checkCmd?: string;
  checkTimeoutMs: number;
  /** Compare only: report what would change, touch nothing. */
  noop: boolean;
  /** With noop: still run check_cmd, on a copy in a temporary directory (from the destination's directory). */
  checkOnNoop?: boolean;
  /** Leave a copy of the stage file beside the destination (confd's `-keep-stage-file`), for debugging. */
  keepStageFile?: boolean;
  /** Run check_cmd in a shell started while idle (src/command/spare-shell.ts): a daemon's. */
  spareShell?: boolean;
}

/** How a write shares this thread with its caller's other work (the pass's renders). */
export interface WriteOverlap {
  /** The destination look, started while the content was still rendering. Without it, the writer looks now. */
  look?: DestinationLook;
  /**
   * Called at most once, when the write starts waiting on work off this thread (the stage file's
   * fsync, or check_cmd): the caller may use the thread meanwhile.
   */
  onWaiting?: () => void;
}

export interface WriteResult {
  action: "unchanged" | "written" | "would-write" | "check-failed" | "failed";
  /** Content, mode or owner differ from the destination (false when the failure came first). */
  changed: boolean;
  /** The old content, for diffs; null when the destination did not exist. */
  previous: FileContent | null;
  check?: CommandResult;
  error?: string;
  /** Written, but not quite as asked: the existing owner could not be kept (it names the file). */
  warning?: string;
  /** The rename was refused (EBUSY: a bind-mounted file; EXDEV) and the file was written in place. */
  inPlace?: boolean;
  /**
   * The stage file's fsync as this thread saw it: the disk's share (beside check_cmd, it also holds
   * the check's process start, a fork on this thread). Absent when no fsync ran.
   */
  fsyncMs?: number;
  durationMs: number;
}

/** Never throws for I/O problems: they are a `failed` result whose error names the destination and the errno. */
export async function writeFile(content: RenderedText | Uint8Array, dest: string, policy: WritePolicy, overlap: WriteOverlap = {}): Promise<WriteResult> {
  const started = performance.now();
  const finish = (result: Omit<WriteResult, "durationMs">): WriteResult => ({ ...result, durationMs: performance.now() - started });
  const fail = (changed: boolean, previous: FileContent | null, reason: string): WriteResult =>
    finish({ action: "failed", changed, previous, error: `cannot write ${dest}: ${reason}` });
  const next = FileContent.given(content);
  const dir = path.dirname(dest);

  if (!policy.noop && firstVisit(dest)) await removeStaleStages(dest);
  const found = await settleLook(overlap.look ?? lookAtDestination(dest), dest);
  if ("reason" in found) return fail(found.changed, null, found.reason);
  const previous = found.content;
  const warnings: string[] = [];
  const want = { ...wantedOwnership(policy, found.file), onKeepRefused: (message: string) => warnings.push(`${dest}: ${message}`) };
  if (upToDate(found, next, want)) return finish({ action: "unchanged", changed: false, previous });
  if (policy.noop && (policy.checkCmd === undefined || !policy.checkOnNoop)) return finish({ action: "would-write", changed: true, previous });
  if (policy.noop) {
    const check = await checkACopy(next, dest, want, policy.checkCmd as string, policy.checkTimeoutMs, overlap.onWaiting).catch((err: unknown) => describeStepFailure(err));
    if (typeof check === "string") return fail(true, previous, `cannot stage a copy for check_cmd: ${check}`);
    if (check.ok) return finish({ action: "would-write", changed: true, previous, check });
    return finish({ action: "check-failed", changed: true, previous, check, error: `check_cmd failed for ${dest}: ${check.error ?? "unknown error"}` });
  }

  // The copies --keep-stage-file left go before the next one is made.
  if (policy.keepStageFile) await removeStaleStages(dest);
  const stage = newStagePath(dest);
  let stageExists = false;
  try {
    const bytes = next.staged();
    const fd = createStageFile(stage, want.mode);
    stageExists = true;
    let check: CommandResult | undefined;
    let fsyncMs: number;
    if (policy.checkCmd === undefined) {
      fsyncMs = await fillSyncAndClose(fd, bytes, want, true, overlap.onWaiting);
      if (policy.keepStageFile) await keepStageCopy(stage, dest);
    } else {
      // Closed before the check: a check_cmd that executes the staged file would get ETXTBSY
      // while a descriptor open for writing exists.
      fillAndClose(fd, bytes, want);
      // The check reads the staged bytes from the page cache while the fsync takes them to disk:
      // only the rename waits for both.
      const synced = startTimedFsync(stage);
      if (policy.keepStageFile) await keepStageCopy(stage, dest);
      check = await runCheck(policy.checkCmd, stage, dir, policy.checkTimeoutMs, overlap.onWaiting, policy.spareShell);
      fsyncMs = await synced;
      if (!check.ok) {
        const error = `check_cmd failed for ${dest}: ${check.error ?? "unknown error"}`;
        return finish({ action: "check-failed", changed: true, previous, check, fsyncMs, error });
      }
    }
    const inPlace = await install(stage, dest, next, want);
    stageExists = inPlace;
    return finish({ action: "written", changed: true, previous, fsyncMs, ...(check && { check }), ...(inPlace && { inPlace }), ...(warnings.length > 0 && { warning: warnings.join("; ") }) });
  } catch (err) {
    return fail(true, previous, describeStepFailure(err));
  } finally {
    if (stageExists) await removeStage(stage);
  }
}

/** --noop's check: the new content in a temporary directory (never the destination's), checked from the destination's directory. */
async function checkACopy(next: FileContent, dest: string, want: Ownership, checkCmd: string, timeoutMs: number, onWaiting?: () => void): Promise<CommandResult> {
  const dir = await mkdtemp(path.join(tmpdir(), "perch-check-"));
  try {
    const copy = path.join(dir, path.basename(dest));
    fillAndClose(createStageFile(copy, want.mode), next.staged(), { mode: want.mode, uid: undefined, gid: undefined });
    return await runCheck(checkCmd, copy, path.dirname(dest), timeoutMs, onWaiting);
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
