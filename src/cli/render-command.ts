/** `perch render`: one pass from a fresh listing, a line per resource, diffs on request. */
import { relative, resolve } from "node:path";
import type { Logger } from "../log/logger.js";
import { Mirror } from "../mirror/mirror.js";
import { describeCommand } from "../command/describe.js";
import { syncResources, type PassReport } from "../sync/sync-resources.js";
import type { LoadedResource } from "../resource/load-set.js";
import { colourDiff } from "../write/diff.js";
import { loadCommandRunner } from "../command/run-command.js";
import { EXIT } from "./exit.js";
import { reportRunKind } from "./run-kind.js";
import { logStoreProblems } from "../store/problems.js";
import type { Snapshot } from "../store/types.js";
import { openListingStore } from "./open-store.js";
import type { Config } from "./settings.js";

export async function renderCommand(config: Config, resources: LoadedResource[], env: Record<string, string | undefined>, logger: Logger): Promise<number> {
  // Runs from the same store kind and conf.d compile the same functions: the launcher's code cache learns each kind once.
  reportRunKind(`render ${config.backend}${config.calicoV3 ? " calico-v3" : ""} ${resolve(config.confdir)}`);
  const mirror = new Mirror(resources.map((r) => r.selection));
  const commands = resources.some((r) => (r.checkCmd !== undefined && !config.noCheck) || (!config.noop && !config.syncOnly && r.reloadCmd !== undefined));
  const store = await openListingStore(config, { logger, env });
  let snapshot: Snapshot;
  try {
    const listStart = performance.now();
    const listing = store.list(mirror.watchPrefixes());
    // A command will run (a check, or a reload): load its runner while the store answers. The
    // bundled module initialises synchronously, so it waits for setImmediate, after this turn's I/O
    // callbacks have sent the request, rather than delay the request. A failed import is reported
    // by the command's own run.
    if (commands) setImmediate(() => void loadCommandRunner().catch(() => undefined));
    snapshot = await listing;
    mirror.replace(snapshot.kvs, snapshot.revision);
    logger.info({ event: "list", store: store.kind, keys: mirror.size, revision: snapshot.revision, durationMs: Math.round(performance.now() - listStart) }, "listed");
  } finally {
    await store.close();
  }
  // What the store left out (a v3 resource, a key that is not UTF-8) fails the run, though the rest is still rendered.
  const storeErrors = logStoreProblems(logger, snapshot.problems);
  const report = await syncResources(resources, mirror, {
    noop: config.noop,
    noCheck: config.noCheck,
    diff: config.diff,
    env,
    logger,
    checkTimeoutMs: config.checkTimeoutMs,
    reloadTimeoutMs: config.reloadTimeoutMs,
    keepStageFile: config.keepStageFile,
    syncOnly: config.syncOnly,
    createDirs: config.root !== undefined,
    overlapRenders: true,
    reportsFailures: true,
  });
  process.stdout.write(formatReport(report, process.stdout.isTTY === true));
  if (!report.ok || storeErrors > 0) return EXIT.failed;
  if (config.exitCode && report.changed) return EXIT.changed;
  return EXIT.ok;
}

export function formatReport(report: PassReport, colour: boolean): string {
  const out: string[] = [];
  for (const r of report.resources) {
    const dest = relative(process.cwd(), r.dest).startsWith("..") ? r.dest : relative(process.cwd(), r.dest);
    out.push(`${r.outcome.padEnd(13)} ${r.resource.padEnd(16)} ${dest}${r.error ? `\n    ${r.error.replaceAll("\n", "\n    ")}` : ""}`);
    if (r.diff) out.push(colour ? colourDiff(r.diff) : r.diff);
  }
  for (const reload of report.reloads) {
    out.push(`${(reload.result.ok ? "reloaded" : "reload-failed").padEnd(13)} ${reload.command}${reload.result.ok ? "" : `: ${describeCommand(reload.result)}`}`);
  }
  return `${out.join("\n")}\n`;
}
