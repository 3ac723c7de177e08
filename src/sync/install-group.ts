/** A pass's write step for a check group (check_covers): its members written as one set, reported and logged. */
import type { Logger } from "../log/logger.js";
import { textOf } from "../render/rendered-text.js";
import type { LoadedResource } from "../resource/load-set.js";
import { unifiedDiff } from "../write/diff.js";
import { writeGroup } from "../write/write-group.js";
import { ensureDestDir, forgetDestDir } from "./dest-dirs.js";
import { DEFAULT_CHECK_TIMEOUT_MS, type Rendered } from "./install-resource.js";
import { FAILED, failureLevel, roundMs, type ResourceReport } from "./report.js";
import type { PassOptions } from "./sync-resources.js";
import type { DestinationLook } from "../write/destination.js";

export interface GroupEntry {
  resource: LoadedResource;
  /** Its content, or the report of its failed render (the installed file then stays in the set). */
  rendered: Rendered | ResourceReport;
  look: DestinationLook;
  log: Logger;
}

/** `entries`: the checker first, then the resources it covers. */
export async function installGroup(entries: readonly GroupEntry[], onWaiting: () => void, opts: PassOptions): Promise<ResourceReport[]> {
  const checker = (entries[0] as GroupEntry).resource;
  if (opts.createDirs && !opts.noop) await ensureDestDir(checker.dest);
  const result = await writeGroup(
    entries.map(({ resource, rendered, look }) => ({
      dest: resource.dest,
      content: "content" in rendered ? rendered.content : undefined,
      mode: resource.mode,
      uid: resource.uid,
      gid: resource.gid,
      look,
    })),
    {
      checkCmd: checker.checkCmd as string,
      checkTimeoutMs: checker.checkTimeoutMs ?? opts.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS,
      noop: opts.noop,
      checkOnNoop: !opts.noCheck,
      spareShell: opts.spareShell,
    },
    onWaiting,
  );
  if (result.members.some((m) => m.action === "failed")) forgetDestDir(checker.dest);
  return Promise.all(
    entries.map(async ({ resource, rendered, log }, i) => {
      if (!("content" in rendered)) return rendered;
      const written = result.members[i] as (typeof result.members)[number];
      const report: ResourceReport = { resource: resource.name, dest: resource.dest, outcome: written.action, renderMs: rendered.renderMs, writeMs: result.durationMs };
      if (written.inPlace) report.inPlace = true;
      if (i === 0 && result.check) report.check = result.check;
      if (i === 0 && result.fsyncMs !== undefined && !opts.overlapRenders) report.fsyncMs = result.fsyncMs;
      if (written.error) report.error = written.error;
      if (opts.diff && written.changed) report.diff = await unifiedDiff(resource.dest, written.previous?.text() ?? null, textOf(rendered.content));
      const fields = {
        event: "write",
        outcome: written.action,
        durationMs: roundMs(result.durationMs),
        ...(report.fsyncMs !== undefined && { fsyncMs: roundMs(report.fsyncMs) }),
        ...(i === 0 && result.check && { checkMs: roundMs(result.check.durationMs) }),
        inPlace: written.inPlace,
        checkGroup: checker.name,
      };
      if (FAILED.has(report.outcome)) log[failureLevel(opts, resource.name, report.error)]({ ...fields, err: report.error, output: result.check?.output }, "write failed; destination left as it was");
      else if (written.warning) log.warn({ ...fields, warning: written.warning }, `${written.action}; ${written.warning}`);
      else log.info(fields, written.action);
      return report;
    }),
  );
}
