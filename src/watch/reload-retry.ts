/**
 * A reload that failed is retried with backoff, a bounded number of times; the daemon goes on
 * meanwhile. A later pass that runs the same command supersedes the pending retry.
 */
import type { Logger } from "../log/logger.js";
import type { ReloadReport } from "../sync/reloads.js";
import { describeCommand } from "../command/describe.js";
import { runCommand } from "../command/run-command.js";
import { Backoff, waitUnlessStopped, type BackoffSchedule } from "../util/retry.js";
import type { Metrics } from "./metrics.js";

export const RELOAD_RETRIES = 5;
const FIRST_RETRY_MS = 1_000;

export class ReloadRetrier {
  /** Per command, the stop of its retries in progress. */
  private readonly pending = new Map<string, AbortController>();
  /** 1 s, 2 s, 4 s, … RELOAD_RETRIES waits. */
  private readonly schedule: BackoffSchedule;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    firstRetryMs = FIRST_RETRY_MS,
  ) {
    this.schedule = { firstMs: firstRetryMs, retries: RELOAD_RETRIES };
  }

  afterPass(reloads: readonly ReloadReport[]): void {
    for (const reload of reloads) {
      this.cancel(reload.command);
      if (!reload.result.ok) this.start(reload.command, reload.timeoutMs);
    }
  }

  stop(): void {
    for (const stop of this.pending.values()) stop.abort();
    this.pending.clear();
  }

  private cancel(command: string): void {
    this.pending.get(command)?.abort();
    this.pending.delete(command);
  }

  private start(command: string, timeoutMs: number): void {
    const stop = new AbortController();
    this.pending.set(command, stop);
    void this.retry(command, timeoutMs, stop.signal).finally(() => {
      if (this.pending.get(command) === stop) this.pending.delete(command);
    });
  }

  private async retry(command: string, timeoutMs: number, stop: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.schedule);
    // A pass that ran the command meanwhile stops this retry, even while a retry was under way.
    for (let attempt = 1; !stop.aborted; attempt++) {
      const delay = backoff.next();
      if (delay === undefined) {
        this.logger.error({ event: "reload", command, outcome: "gave-up", attempts: RELOAD_RETRIES }, "reload still failing; giving up until the next change");
        return;
      }
      if (!(await waitUnlessStopped(delay, stop))) return;
      const result = await runCommand(command, { timeoutMs });
      this.metrics.observeReload(result.ok, result.durationMs);
      if (result.ok) {
        this.logger.info({ event: "reload", command, outcome: "ok", attempt, retry: true }, "reload succeeded on retry");
        return;
      }
      this.logger.error({ event: "reload", command, outcome: "failed", attempt, retry: true, err: describeCommand(result) }, "reload retry failed");
    }
  }
}
