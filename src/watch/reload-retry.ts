/**
 * A reload that failed is retried with backoff (RELOAD_RETRY), without end: a BIRD that comes back
 * gets its configuration. A command's failures make one series, logged when it starts (an error,
 * with the command's output) and when it ends ("recovered after N attempts"); the attempts between
 * are at debug. A pass that runs the same command is an attempt of the series: it ends it, or it
 * fails and the next retry follows the backoff. perch_reload_retry_* say which retry is pending.
 */
import type { Logger } from "../log/logger.js";
import type { CommandResult } from "../command/run-command.js";
import type { ReloadReport } from "../sync/reloads.js";
import { describeCommand } from "../command/describe.js";
import { runCommand } from "../command/run-command.js";
import { Backoff, waitUnlessStopped, type BackoffSchedule } from "../util/retry.js";
import type { Metrics } from "./metrics.js";

/** Retrying a failed reload: 1 s, doubling up to a minute; a reload costs little, and BIRD restarted by its supervisor is back in seconds. */
export const RELOAD_RETRY = { firstMs: 1_000, maxMs: 60_000 } as const satisfies BackoffSchedule;

/** How a command ran in the pass that failed: its retries run alike. */
type RunSettings = Pick<ReloadReport, "cwd" | "timeoutMs">;

interface Series {
  run: RunSettings;
  /** Its failures are the series' failed attempts. */
  backoff: Backoff;
  /** Ends the wait for the next retry, and drops the outcome of a retry in flight. */
  next: AbortController;
}

export class ReloadRetrier {
  /** Per command, its series of failures. */
  private readonly series = new Map<string, Series>();
  /** Set by stop(): a pass finishing on the way out starts no series. */
  private readonly stopped = new AbortController();

  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    /** Without `retries`: a series ends only when the command succeeds (or the daemon stops). */
    private readonly schedule: Omit<BackoffSchedule, "retries"> = RELOAD_RETRY,
    private readonly now: () => number = Date.now,
  ) {}

  /** A pass's reloads: each one ends its command's series, or starts it or fails on in it. */
  afterPass(reloads: readonly ReloadReport[]): void {
    if (this.stopped.signal.aborted) return;
    for (const reload of reloads) {
      if (reload.result.ok) this.succeeded(reload.command);
      else this.failed(reload.command, { cwd: reload.cwd, timeoutMs: reload.timeoutMs }, reload.result, reload.resources);
    }
  }

  /** Only these commands exist now (a configuration reload): the others' series end, unretried. */
  keepOnly(commands: ReadonlySet<string>): void {
    for (const [command, series] of this.series) {
      if (commands.has(command)) continue;
      series.next.abort();
      this.series.delete(command);
      this.metrics.reloadRetryEnded(command);
    }
  }

  stop(): void {
    this.stopped.abort();
    for (const series of this.series.values()) series.next.abort();
    this.series.clear();
  }

  /** `resources`: those whose change asked for the reload, when a pass ran it. */
  private failed(command: string, run: RunSettings, result: CommandResult, resources?: string[]): void {
    const known = this.series.get(command);
    known?.next.abort();
    const series: Series = known ?? { run, backoff: new Backoff(this.schedule), next: new AbortController() };
    series.next = new AbortController();
    this.series.set(command, series);
    // The schedule has no end.
    const retryInMs = series.backoff.next() as number;
    const fields = { event: "reload", command, outcome: "failed", attempt: series.backoff.failures, retryInMs, err: describeCommand(result) };
    if (known === undefined) {
      this.logger.error({ ...fields, resources, exitCode: result.exitCode, timedOut: result.timedOut, output: result.output }, "reload failed; retrying with backoff until it succeeds");
    } else {
      this.logger.debug(fields, "reload still failing");
    }
    this.metrics.reloadRetryScheduled(command, this.now() + retryInMs);
    void this.retry(command, series, retryInMs, series.next.signal);
  }

  private succeeded(command: string): void {
    const series = this.series.get(command);
    if (series === undefined) return;
    series.next.abort();
    this.series.delete(command);
    this.metrics.reloadRetryEnded(command);
    const attempts = series.backoff.failures + 1;
    this.logger.info({ event: "reload", command, outcome: "recovered", attempts }, `reload recovered after ${attempts} attempts`);
  }

  private async retry(command: string, series: Series, delayMs: number, stop: AbortSignal): Promise<void> {
    if (!(await waitUnlessStopped(delayMs, stop))) return;
    const result = await runCommand(command, { timeoutMs: series.run.timeoutMs, cwd: series.run.cwd });
    this.metrics.observeReload(command, result.ok, result.durationMs);
    // A pass ran the command meanwhile (its outcome counts instead), or the daemon stopped.
    if (stop.aborted || this.stopped.signal.aborted) return;
    if (result.ok) this.succeeded(command);
    else this.failed(command, series.run, result);
  }
}
