/**
 * A reload that failed is retried with backoff, a bounded number of times; the daemon goes on
 * meanwhile. A later pass that runs the same command supersedes the pending retry.
 */
import type { Logger } from "../log/logger.js";
import type { ReloadReport } from "../sync/reloads.js";
import { describeCommand } from "../command/describe.js";
import { runCommand } from "../command/run-command.js";
import type { Metrics } from "./metrics.js";

export const RELOAD_RETRIES = 5;
const FIRST_RETRY_MS = 1_000;

export class ReloadRetrier {
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly firstRetryMs = FIRST_RETRY_MS,
  ) {}

  afterPass(reloads: readonly ReloadReport[]): void {
    for (const reload of reloads) {
      this.cancel(reload.command);
      if (!reload.result.ok) this.schedule(reload.command, reload.timeoutMs, 1);
    }
  }

  stop(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
  }

  private cancel(command: string): void {
    const t = this.pending.get(command);
    if (t) clearTimeout(t);
    this.pending.delete(command);
  }

  private schedule(command: string, timeoutMs: number, attempt: number): void {
    if (attempt > RELOAD_RETRIES) {
      this.logger.error({ event: "reload", command, outcome: "gave-up", attempts: RELOAD_RETRIES }, "reload still failing; giving up until the next change");
      return;
    }
    const delay = this.firstRetryMs * 2 ** (attempt - 1);
    this.pending.set(
      command,
      setTimeout(async () => {
        this.pending.delete(command);
        const result = await runCommand(command, { timeoutMs });
        this.metrics.observeReload(result.ok, result.durationMs);
        if (result.ok) {
          this.logger.info({ event: "reload", command, outcome: "ok", attempt, retry: true }, "reload succeeded on retry");
        } else {
          this.logger.error({ event: "reload", command, outcome: "failed", attempt, retry: true, err: describeCommand(result) }, "reload retry failed");
          this.schedule(command, timeoutMs, attempt + 1);
        }
      }, delay),
    );
  }
}
