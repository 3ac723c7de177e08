/**
 * Prometheus metrics of the daemon (prom-client), in a registry of its own: perch's own under
 * perch_, the process's and Node's under their standard process_ and nodejs_ names. README
 * "Metrics" lists them (a test checks it against /metrics).
 */
import { createHash } from "node:crypto";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { PassReport } from "../sync/sync-resources.js";

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** An fsync is well under a millisecond on a quiet SSD: finer at the bottom, to see a disk's tail. */
const FSYNC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];
/** The longest reload command kept whole in a `command` label. */
const COMMAND_LABEL_CHARS = 48;

export class Metrics {
  readonly registry = new Registry();
  private readonly passes = new Counter({ name: "perch_passes_total", help: "Render passes, by outcome", labelNames: ["outcome"], registers: [this.registry] });
  private readonly renders = new Counter({ name: "perch_renders_total", help: "Resource renders, by resource and outcome", labelNames: ["resource", "outcome"], registers: [this.registry] });
  private readonly writes = new Counter({ name: "perch_writes_total", help: "Destination files written", labelNames: ["resource"], registers: [this.registry] });
  private readonly renderSeconds = new Histogram({ name: "perch_render_duration_seconds", help: "Time to render a resource in memory", labelNames: ["resource"], buckets: DURATION_BUCKETS, registers: [this.registry] });
  private readonly fsyncSeconds = new Histogram({ name: "perch_fsync_duration_seconds", help: "Stage file fsync, call to completion as perch saw it (includes a check_cmd's process start when there is one)", labelNames: ["resource"], buckets: FSYNC_BUCKETS, registers: [this.registry] });
  private readonly checks = new Counter({ name: "perch_checks_total", help: "check_cmd runs, by resource and outcome", labelNames: ["resource", "outcome"], registers: [this.registry] });
  private readonly checkSeconds = new Histogram({ name: "perch_check_duration_seconds", help: "check_cmd duration", labelNames: ["resource"], buckets: DURATION_BUCKETS, registers: [this.registry] });
  private readonly reloads = new Counter({ name: "perch_reloads_total", help: "reload_cmd runs (a pass's and retries), by command and outcome", labelNames: ["command", "outcome"], registers: [this.registry] });
  private readonly reloadSeconds = new Histogram({ name: "perch_reload_duration_seconds", help: "reload_cmd duration, by command", labelNames: ["command"], buckets: DURATION_BUCKETS, registers: [this.registry] });
  private readonly reloadRetryPending = new Gauge({ name: "perch_reload_retry_pending", help: "1 while a failed reload_cmd waits to be retried", labelNames: ["command"], registers: [this.registry] });
  private readonly reloadRetryAt = new Gauge({ name: "perch_reload_retry_next_timestamp_seconds", help: "Unix time of a failing reload_cmd's next retry", labelNames: ["command"], registers: [this.registry] });
  readonly storeConnected = new Gauge({ name: "perch_store_connected", help: "1 while the store's change stream is connected", registers: [this.registry] });
  readonly appliedRevision = new Gauge({ name: "perch_applied_revision", help: "Store revision the mirror has applied", registers: [this.registry] });
  readonly mirrorKeys = new Gauge({ name: "perch_mirror_keys", help: "Keys held in the mirror", registers: [this.registry] });
  readonly storeEvents = new Counter({ name: "perch_store_events_total", help: "Change events received from the store", registers: [this.registry] });
  readonly resyncs = new Counter({ name: "perch_resyncs_total", help: "Full listings after the initial sync, by reason", labelNames: ["reason"], registers: [this.registry] });
  readonly lastSuccess = new Gauge({ name: "perch_last_success_timestamp_seconds", help: "Unix time of the last pass in which everything succeeded", registers: [this.registry] });
  private readonly failing = new Gauge({ name: "perch_resource_failing", help: "1 while a resource's last render, check or write failed (it is retried)", labelNames: ["resource"], registers: [this.registry] });
  private readonly failingSince = new Gauge({ name: "perch_resource_failing_since_seconds", help: "Unix time of a failing resource's first failure since it last succeeded", labelNames: ["resource"], registers: [this.registry] });
  readonly configReloads = new Counter({ name: "perch_config_reloads_total", help: "SIGHUP/edit reloads of conf.d and templates, by outcome", labelNames: ["outcome"], registers: [this.registry] });
  private readonly buildInfo = new Gauge({ name: "perch_build_info", help: "Always 1: perch's version and the Node.js version it runs on", labelNames: ["version", "node"], registers: [this.registry] });

  /** `version`: perch's (package.json). */
  constructor(version: string) {
    // The event-loop delay histogram samples on a timer: prom-client's default (10 ms) wakes an idle daemon every 10 ms.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1000 });
    this.buildInfo.set({ version, node: process.versions.node }, 1);
  }

  observePass(report: PassReport): void {
    this.passes.inc({ outcome: report.ok ? "ok" : "failed" });
    for (const r of report.resources) {
      this.renders.inc({ resource: r.resource, outcome: r.outcome });
      if (r.outcome !== "render-failed") this.renderSeconds.observe({ resource: r.resource }, r.renderMs / 1000);
      if (r.outcome === "written") this.writes.inc({ resource: r.resource });
      if (r.fsyncMs !== undefined) this.fsyncSeconds.observe({ resource: r.resource }, r.fsyncMs / 1000);
      if (r.check) {
        this.checks.inc({ resource: r.resource, outcome: r.check.ok ? "ok" : "failed" });
        this.checkSeconds.observe({ resource: r.resource }, r.check.durationMs / 1000);
      }
    }
    for (const reload of report.reloads) this.observeReload(reload.command, reload.result.ok, reload.result.durationMs);
    if (report.ok) this.lastSuccess.set(Date.now() / 1000);
  }

  resourceFailing(resource: string, sinceMs: number): void {
    this.failing.set({ resource }, 1);
    this.failingSince.set({ resource }, sinceMs / 1000);
  }

  resourceRecovered(resource: string): void {
    this.failing.remove({ resource });
    this.failingSince.remove({ resource });
  }

  observeReload(command: string, ok: boolean, durationMs: number): void {
    const label = commandLabel(command);
    this.reloads.inc({ command: label, outcome: ok ? "ok" : "failed" });
    this.reloadSeconds.observe({ command: label }, durationMs / 1000);
  }

  reloadRetryScheduled(command: string, atMs: number): void {
    const label = commandLabel(command);
    this.reloadRetryPending.set({ command: label }, 1);
    this.reloadRetryAt.set({ command: label }, atMs / 1000);
  }

  reloadRetryEnded(command: string): void {
    const label = commandLabel(command);
    this.reloadRetryPending.remove({ command: label });
    this.reloadRetryAt.remove({ command: label });
  }
}

/**
 * A reload command as a label value. Calico's differ only after their first word (`sv hup bird`,
 * `sv hup bird6`), so the text itself up to COMMAND_LABEL_CHARS; a longer one, or one of several
 * lines, is cut and ends in `~` and 8 hex digits of its SHA-256, so commands that start alike stay apart.
 */
export function commandLabel(command: string): string {
  if (command.length <= COMMAND_LABEL_CHARS && !/[\n\r]/.test(command)) return command;
  const hash = createHash("sha256").update(command).digest("hex").slice(0, 8);
  return `${command.replace(/\s+/g, " ").slice(0, COMMAND_LABEL_CHARS - hash.length - 1).trimEnd()}~${hash}`;
}
