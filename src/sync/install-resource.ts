/** A pass's write step: a rendered resource installed by writeFile, reported and logged. */
import { describeCommand } from "../command/describe.js";
import type { Logger } from "../log/logger.js";
import { textOf, type RenderedText } from "../render/rendered-text.js";
import type { LoadedResource } from "../resource/load-set.js";
import { unifiedDiff } from "../write/diff.js";
import { writeFile, type WriteOverlap } from "../write/write-file.js";
import { ensureDestDir, forgetDestDir } from "./dest-dirs.js";
import { FAILED, failureLevel, roundMs, type ResourceReport } from "./report.js";
import type { PassOptions } from "./sync-resources.js";

export const DEFAULT_CHECK_TIMEOUT_MS = 30_000;

export interface Rendered {
  content: RenderedText;
  renderMs: number;
}

export async function installResource(resource: LoadedResource, { content, renderMs }: Rendered, overlap: WriteOverlap, opts: PassOptions, log: Logger): Promise<ResourceReport> {
  if (opts.createDirs && !opts.noop) await ensureDestDir(resource.dest);
  const policy = {
    mode: resource.mode,
    uid: resource.uid,
    gid: resource.gid,
    checkCmd: resource.checkCmd,
    checkTimeoutMs: resource.checkTimeoutMs ?? opts.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS,
    noop: opts.noop,
    checkOnNoop: !opts.noCheck,
    keepStageFile: opts.keepStageFile,
    spareShell: opts.spareShell,
  };
  const result = await writeFile(content, resource.dest, policy, overlap);
  if (result.action === "failed") forgetDestDir(resource.dest);
  const report: ResourceReport = { resource: resource.name, dest: resource.dest, outcome: result.action, renderMs, writeMs: result.durationMs };
  if (result.inPlace) report.inPlace = true;
  // With overlapRenders the next resource renders on this thread while the fsync waits: the figure
  // would be mostly that render, so a one-shot does not report it.
  if (result.fsyncMs !== undefined && !opts.overlapRenders) report.fsyncMs = result.fsyncMs;
  if (result.check) report.check = result.check;
  if (result.error) report.error = result.error;
  if (result.action === "check-failed") report.error = `check_cmd failed: ${describeCommand(result.check)}`;
  if (opts.diff && result.changed) report.diff = await unifiedDiff(resource.dest, result.previous?.text() ?? null, textOf(content));

  const fields = {
    event: "write",
    outcome: result.action,
    durationMs: roundMs(result.durationMs),
    fsyncMs: report.fsyncMs === undefined ? undefined : roundMs(report.fsyncMs),
    checkMs: result.check === undefined ? undefined : roundMs(result.check.durationMs),
    inPlace: result.inPlace,
  };
  // A failed in-place write says itself what it left (src/write/install.ts); every other failure leaves the old file.
  const left = report.error?.includes("the destination is partly written") ? "destination partly written" : "destination left as it was";
  if (FAILED.has(report.outcome)) log[failureLevel(opts, resource.name, report.error)]({ ...fields, err: report.error, output: result.check?.output }, `write failed; ${left}`);
  else if (result.warning) log.warn({ ...fields, warning: result.warning }, `${result.action}; ${result.warning}`);
  else log.info(fields, result.action);
  return report;
}
