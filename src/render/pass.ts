/**
 * One pass over a set of resources: render each in memory, write the ones whose bytes changed
 * (unchecked resources first, so a checked file's includes are in place when it is checked), then
 * run each distinct reload command once. One failing resource does not stop the others.
 */
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { errorMessage } from "../errors.js";
import type { Logger } from "../log/logger.js";
import type { Mirror } from "../mirror/mirror.js";
import type { LoadedResource } from "../resource/load-set.js";
import type { RenderMemo } from "../template/memo.js";
import { unifiedDiff } from "../write/diff.js";
import { describeCommand } from "../command/describe.js";
import { fillPlaceholder } from "../command/placeholders.js";
import { runCommand, type CommandResult } from "../command/run-command.js";
import { lookAtDestination } from "../write/destination.js";
import { writeFile, type WriteOverlap, type WriteResult } from "../write/write-file.js";
import { renderResource } from "./render.js";
import { Provenance } from "../template/provenance.js";

export const DEFAULT_CHECK_TIMEOUT_MS = 30_000;
export const DEFAULT_RELOAD_TIMEOUT_MS = 60_000;

export interface PassOptions {
  /** Compare only: no write, no reload. */
  noop: boolean;
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
   * For a one-shot, where only the whole pass's time counts: write the unchecked resources side by
   * side, and render the next resource while a checked one's write waits on its fsync or check_cmd.
   * Checked resources are still written one at a time, in order, after every unchecked one. Off in
   * watch mode: there a changed file should be in place as early as possible, not after the next
   * resource's render.
   */
  overlapRenders?: boolean;
}

export type Outcome = "written" | "unchanged" | "would-write" | "render-failed" | "check-failed" | "failed";

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

export interface ReloadReport {
  command: string;
  /** The resources whose change asked for this reload. */
  resources: string[];
  timeoutMs: number;
  result: CommandResult;
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

/** Destination directories made under --root by this process: a daemon makes each once. */
const createdDirs = new Set<string>();

const FAILED: ReadonlySet<Outcome> = new Set(["render-failed", "check-failed", "failed"]);

export async function runPass(resources: readonly LoadedResource[], mirror: Mirror, opts: PassOptions): Promise<PassReport> {
  const started = performance.now();
  // Watch mode: one write at a time, each started as soon as its file is rendered and the previous
  // write is done, so a change's file is in place before anything else runs. (Writing the unchecked
  // ones concurrently there made every render run before the first file's write could go on.)
  const ordered = [...resources.filter((r) => !r.checkCmd), ...resources.filter((r) => r.checkCmd)];
  const reports = new Map<string, ResourceReport>();
  const writes: Promise<void>[] = [];
  for (const resource of ordered) {
    const log = opts.logger.child({ resource: resource.name, dest: resource.dest });
    // The destination's lstat runs on the thread pool while this thread renders.
    const look = lookAtDestination(resource.dest);
    const rendered = render(resource, mirror, opts, log);
    if (!("content" in rendered)) {
      reports.set(resource.name, rendered);
      continue;
    }
    // With overlapRenders, unchecked files are written side by side (nothing orders them among
    // themselves); a checked one waits for every earlier write, so its check sees them installed.
    const alongside = opts.overlapRenders === true && !resource.checkCmd;
    if (!alongside) await Promise.all(writes);
    let waiting = (): void => undefined;
    const handedOver = new Promise<void>((resolve) => (waiting = resolve));
    const writing = write(resource, rendered, { look, onWaiting: waiting }, opts, log).then((report) => void reports.set(resource.name, report));
    writes.push(writing);
    if (!alongside) await (opts.overlapRenders ? Promise.race([handedOver, writing]) : writing);
  }
  await Promise.all(writes);

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
  opts.logger.info({ event: "pass", ok: report.ok, changed: report.changed, resources: inOrder.length, durationMs: round(report.durationMs) }, "pass done");
  return report;
}

interface Rendered {
  content: string;
  renderMs: number;
}

/** Renders `resource` from the mirror: its content, or the report of a failed render. */
function render(resource: LoadedResource, mirror: Mirror, opts: PassOptions, log: Logger): Rendered | ResourceReport {
  const renderStart = performance.now();
  let content: string;
  try {
    content = renderResource(resource, { view: mirror.view(resource.name), env: opts.env, provenance: new Provenance(), memo: opts.memoFor?.(resource.name) });
  } catch (err) {
    const error = errorMessage(err);
    log.error({ event: "render", outcome: "failed", err: error }, "render failed; destination left as it was");
    return { resource: resource.name, dest: resource.dest, outcome: "render-failed", error, renderMs: performance.now() - renderStart, writeMs: 0 };
  }
  const renderMs = performance.now() - renderStart;
  log.debug({ event: "render", outcome: "ok", durationMs: round(renderMs), bytes: content.length }, "rendered");
  return { content, renderMs };
}

/** Installs a rendered resource. */
async function write(resource: LoadedResource, { content, renderMs }: Rendered, overlap: WriteOverlap, opts: PassOptions, log: Logger): Promise<ResourceReport> {
  if (opts.createDirs && !opts.noop && !createdDirs.has(dirname(resource.dest))) {
    await mkdir(dirname(resource.dest), { recursive: true }).catch(() => undefined);
    createdDirs.add(dirname(resource.dest));
  }
  const result: WriteResult = await writeFile(content, resource.dest, {
    mode: resource.mode,
    uid: resource.uid,
    gid: resource.gid,
    checkCmd: resource.checkCmd,
    checkTimeoutMs: resource.checkTimeoutMs ?? opts.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS,
    noop: opts.noop,
    keepStageFile: opts.keepStageFile,
  }, overlap);
  if (result.action === "failed") createdDirs.delete(dirname(resource.dest));
  const report: ResourceReport = { resource: resource.name, dest: resource.dest, outcome: result.action, renderMs, writeMs: result.durationMs };
  if (result.inPlace) report.inPlace = true;
  // With overlapRenders the next resource renders on this thread while the fsync waits: the figure
  // would be mostly that render, so a one-shot does not report it.
  if (result.fsyncMs !== undefined && !opts.overlapRenders) report.fsyncMs = result.fsyncMs;
  if (result.check) report.check = result.check;
  if (result.error) report.error = result.error;
  if (result.action === "check-failed") report.error = `check_cmd failed: ${describeCommand(result.check)}`;
  if (opts.diff && result.changed) report.diff = await unifiedDiff(resource.dest, result.previous?.toString("utf8") ?? null, content);

  const fields = { event: "write", outcome: result.action, durationMs: round(result.durationMs), fsyncMs: report.fsyncMs === undefined ? undefined : round(report.fsyncMs), inPlace: result.inPlace };
  if (FAILED.has(report.outcome)) log.error({ ...fields, err: report.error, output: result.check?.output }, "write failed; destination left as it was");
  else log.info(fields, result.action);
  return report;
}

async function runReloads(written: readonly LoadedResource[], opts: PassOptions): Promise<ReloadReport[]> {
  // Distinct commands in conf.d order: two resources sharing a reload_cmd reload once.
  const commands = new Map<string, string[]>();
  for (const r of written) {
    if (!r.reloadCmd) continue;
    const command = fillPlaceholder(r.reloadCmd, "dest", r.dest);
    commands.set(command, [...(commands.get(command) ?? []), r.name]);
  }
  const reports: ReloadReport[] = [];
  for (const [command, resources] of commands) {
    const timeoutMs = Math.max(...written.filter((r) => resources.includes(r.name)).map((r) => r.reloadTimeoutMs ?? opts.reloadTimeoutMs ?? DEFAULT_RELOAD_TIMEOUT_MS));
    const result = await runCommand(command, { timeoutMs });
    const fields = { event: "reload", command, resources, outcome: result.ok ? "ok" : "failed", durationMs: round(result.durationMs), exitCode: result.exitCode, output: result.output };
    if (result.ok) opts.logger.info(fields, "reloaded");
    else opts.logger.error({ ...fields, timedOut: result.timedOut, err: result.error }, "reload failed");
    reports.push({ command, resources, timeoutMs, result });
  }
  return reports;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
