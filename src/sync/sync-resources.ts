/**
 * The sync orchestrator: one pass over resources. Render each, write those that changed (unchecked
 * first: a checked file's includes are then in place), reload; one failure does not stop the others.
 */
import { makeSpareShell } from "../command/spare-shell.js";
import { errorMessage } from "../errors.js";
import type { Logger } from "../log/logger.js";
import type { Mirror } from "../mirror/mirror.js";
import { renderResource } from "../render/render.js";
import type { RenderedText } from "../render/rendered-text.js";
import type { LoadedResource } from "../resource/load-set.js";
import type { RenderMemo } from "../template/memo.js";
import { Provenance } from "../template/provenance.js";
import { lookAtDestination } from "../write/destination.js";
import { installGroup } from "./install-group.js";
import { installResource, type Rendered } from "./install-resource.js";
import { runReloads, type ReloadReport } from "./reloads.js";
import { FAILED, failureLevel, roundMs, type ResourceReport } from "./report.js";
import { WriteSchedule } from "./write-schedule.js";

export interface PassOptions {
  /** Compare only: no write, no reload. */
  noop: boolean;
  /** With noop: run no check_cmd (by default a noop pass still checks what would change). */
  noCheck?: boolean;
  /** Compute unified diffs of what changed (or would change). */
  diff: boolean;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  checkTimeoutMs?: number;
  reloadTimeoutMs?: number;
  keepStageFile?: boolean;
  /** Skip reload commands (confd's -sync-only). */
  syncOnly?: boolean;
  /** Create missing destination directories (under --root, where the tree starts empty). */
  createDirs?: boolean;
  /** Watch mode: each resource's memo of its last render, for incremental rendering. */
  memoFor?: (resource: string) => RenderMemo;
  /**
   * A one-shot, where only the whole pass's time counts: render while writes wait (WriteSchedule).
   * Off in watch mode, where a changed file should be in place before the next render.
   */
  overlapRenders?: boolean;
  /** A one-shot: its report shows every failure, the log keeps them at debug (report.ts, failureLevel). */
  reportsFailures?: boolean;
  /** A daemon's resources already failing, with their last error: the same failure again is logged at debug. */
  knownFailures?: ReadonlyMap<string, { readonly error: string | undefined }>;
  /**
   * A daemon's pass: check_cmd runs in a shell forked after the previous pass, while idle
   * (src/command/spare-shell.ts), not in one forked between the change and its file.
   */
  spareShell?: boolean;
}

export interface PassReport {
  resources: ResourceReport[];
  reloads: ReloadReport[];
  /** Every resource rendered, was written or unchanged, and every reload succeeded. */
  ok: boolean;
  /** Something was written (or, with noop, would be). */
  changed: boolean;
  durationMs: number;
}

export async function syncResources(given: readonly LoadedResource[], mirror: Mirror, opts: PassOptions): Promise<PassReport> {
  const started = performance.now();
  const resources = withGroupMates(given);
  const reports = new Map<string, ResourceReport>();
  const schedule = new WriteSchedule(opts.overlapRenders === true);
  for (const unit of writeUnits(resources)) {
    if (Array.isArray(unit)) {
      // A check group: every member rendered, then written as one set (install-group.ts).
      const entries = unit.map((resource) => {
        const log = opts.logger.child({ resource: resource.name, dest: resource.dest });
        const look = lookAtDestination(resource.dest);
        return { resource, look, log, rendered: render(resource, mirror, opts, log) };
      });
      await schedule.add(true, (onWaiting) => installGroup(entries, onWaiting, opts).then((rs) => rs.forEach((r) => reports.set(r.resource, r))));
      continue;
    }
    const resource = unit;
    const log = opts.logger.child({ resource: resource.name, dest: resource.dest });
    // The destination's lstat runs on the thread pool while this thread renders.
    const look = lookAtDestination(resource.dest);
    const rendered = render(resource, mirror, opts, log);
    if (!("content" in rendered)) {
      reports.set(resource.name, rendered);
      continue;
    }
    await schedule.add(Boolean(resource.checkCmd), (onWaiting) =>
      installResource(resource, rendered, { look, onWaiting }, opts, log).then((report) => void reports.set(resource.name, report)),
    );
  }
  await schedule.settled();

  const inOrder = resources.map((r) => reports.get(r.name) as ResourceReport);
  const written = resources.filter((r) => reports.get(r.name)?.outcome === "written");
  const reloads = opts.noop || opts.syncOnly ? [] : await runReloads(written, opts);
  const report: PassReport = {
    resources: inOrder,
    reloads,
    ok: inOrder.every((r) => !FAILED.has(r.outcome)) && reloads.every((r) => r.result.ok),
    changed: inOrder.some((r) => r.outcome === "written" || r.outcome === "would-write"),
    durationMs: performance.now() - started,
  };
  opts.logger.info({ event: "pass", ok: report.ok, changed: report.changed, resources: inOrder.length, durationMs: roundMs(report.durationMs) }, "pass done");
  if (opts.spareShell) setImmediate(() => void makeSpareShell().catch(() => undefined));
  return report;
}

/**
 * The pass's resources with the rest of each one's check group (a change to bird_ipam.cfg checks,
 * and so renders, bird.cfg too), in the order given, the mates after.
 */
function withGroupMates(given: readonly LoadedResource[]): LoadedResource[] {
  const all = [...given];
  const names = new Set(given.map((r) => r.name));
  for (const r of given) {
    for (const mate of r.groupMates ?? []) {
      if (!names.has(mate.name)) {
        names.add(mate.name);
        all.push(mate);
      }
    }
  }
  return all;
}

/**
 * What is written in which order: unchecked resources first (a checked file's includes are then in
 * place), then the checked ones and the check groups (each a list, its checker first), in order.
 */
function writeUnits(resources: readonly LoadedResource[]): Array<LoadedResource | LoadedResource[]> {
  const grouped = new Map<string, LoadedResource[]>();
  const later: Array<LoadedResource | LoadedResource[]> = [];
  for (const r of resources) {
    const group = r.checkGroup;
    if (group === undefined) {
      if (r.checkCmd) later.push(r);
      continue;
    }
    let members = grouped.get(group.checker);
    if (members === undefined) {
      members = [];
      grouped.set(group.checker, members);
      later.push(members);
    }
    members.push(r);
  }
  for (const [checker, members] of grouped) {
    const order = members.find((r) => r.name === checker)?.checkGroup?.members ?? [];
    members.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  }
  return [...resources.filter((r) => r.checkGroup === undefined && !r.checkCmd), ...later];
}

/** Renders `resource` from the mirror: its content, or the report of a failed render. */
function render(resource: LoadedResource, mirror: Mirror, opts: PassOptions, log: Logger): Rendered | ResourceReport {
  const renderStart = performance.now();
  let content: RenderedText;
  try {
    content = renderResource(resource, { view: mirror.view(resource.name), env: opts.env, provenance: new Provenance(), memo: opts.memoFor?.(resource.name) });
  } catch (err) {
    const error = errorMessage(err);
    log[failureLevel(opts, resource.name, error)]({ event: "render", outcome: "failed", err: error }, "render failed; destination left as it was");
    return { resource: resource.name, dest: resource.dest, outcome: "render-failed", error, renderMs: performance.now() - renderStart, writeMs: 0 };
  }
  const renderMs = performance.now() - renderStart;
  log.debug({ event: "render", outcome: "ok", durationMs: roundMs(renderMs), bytes: content.length }, "rendered");
  return { content, renderMs };
}
