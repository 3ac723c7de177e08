/**
 * Resources whose last render, check or write failed. Each pass takes them in again, so a file
 * whose check failed because of an include is checked again as soon as the include changes, and
 * a pass is not "ok" while one of them fails; with nothing else to do, a pass of them alone runs
 * after a backoff (RESOURCE_RETRY), which starts over when one of their inputs changes. /readyz
 * and the metrics say which are failing and since when. The log says it once per series: a retry
 * that fails the same way, and the same set retried again, are at debug.
 */
import type { Logger } from "../log/logger.js";
import { FAILED, type Outcome, type ResourceReport } from "../sync/report.js";
import { Backoff, RESOURCE_RETRY } from "../util/retry.js";
import type { Metrics } from "./metrics.js";

interface Failure {
  outcome: Outcome;
  error: string | undefined;
  /** Unix time in ms of the first failure since the resource last succeeded. */
  since: number;
}

export class FailingResources {
  private readonly failing = new Map<string, Failure>();
  private readonly backoff = new Backoff(RESOURCE_RETRY);
  private timer: NodeJS.Timeout | undefined;
  /** The failing set last announced: a retry of the same set is logged at debug. */
  private announced = "";

  constructor(
    /** Runs a pass (of the failing resources, which every pass takes in). */
    private readonly retry: () => void,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  names(): string[] {
    return [...this.failing.keys()];
  }

  /** Each failing resource's last failure: a pass logs the same failure again at debug only. */
  current(): ReadonlyMap<string, { readonly error: string | undefined }> {
    return this.failing;
  }

  /** Store changes touched these resources: a failing one is rendered again anyway, its backoff starts over. */
  changed(names: Iterable<string>): void {
    for (const name of names) if (this.failing.has(name)) this.backoff.reset();
  }

  /** A pass's outcome: failures recorded (the first one's time kept), successes cleared, the next retry armed. */
  afterPass(reports: readonly ResourceReport[]): void {
    for (const r of reports) {
      const known = this.failing.get(r.resource);
      if (FAILED.has(r.outcome)) {
        const since = known?.since ?? this.now();
        this.failing.set(r.resource, { outcome: r.outcome, error: r.error, since });
        if (known === undefined) this.metrics.resourceFailing(r.resource, since);
      } else if (known !== undefined) {
        this.forget(r.resource);
        this.log.info({ event: "recovered", resource: r.resource, failedForMs: this.now() - known.since }, "resource succeeded again");
      }
    }
    this.arm();
  }

  /** Only these resources exist now (a configuration reload): the others are no longer failing. */
  keepOnly(names: ReadonlySet<string>): void {
    for (const name of this.names()) if (!names.has(name)) this.forget(name);
    this.arm();
  }

  /** For /readyz: each failing resource, its outcome, since when and why; undefined when none is. */
  describe(): string | undefined {
    if (this.failing.size === 0) return undefined;
    const lines = [...this.failing].map(([name, f]) => `${name}: ${f.outcome} since ${new Date(f.since).toISOString()}${f.error ? `: ${f.error.split("\n")[0]}` : ""}`);
    return `failing resources (retried):\n${lines.join("\n")}`;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private forget(name: string): void {
    this.failing.delete(name);
    this.metrics.resourceRecovered(name);
  }

  private arm(): void {
    this.stop();
    if (this.failing.size === 0) {
      this.backoff.reset();
      this.announced = "";
      return;
    }
    // The schedule has no end.
    const retryInMs = this.backoff.next() as number;
    const names = this.names();
    const set = JSON.stringify([...names].sort());
    this.log[set === this.announced ? "debug" : "warn"]({ event: "retry", resources: names, retryInMs }, "failed resources are retried");
    this.announced = set;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.retry();
    }, retryInMs);
  }
}
