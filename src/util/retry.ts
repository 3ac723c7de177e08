/**
 * perch's one way to retry: a backoff schedule says how long to wait after each failure, and every
 * wait ends early when its caller stops. The store's reconnects, the daemon's listing and failed
 * resources, the watch command's start-up and reload retries all use it, each with its own schedule (README).
 */
import { setTimeout as sleep } from "node:timers/promises";

export interface BackoffSchedule {
  /** The first wait. */
  firstMs: number;
  /** The longest wait (default: no cap). */
  maxMs?: number;
  /** The wait doubles once per this many failures (default 1). */
  doubleEvery?: number;
  /** Each wait is drawn between half of it and all of it, so a fleet does not retry in lockstep. */
  jitter?: boolean;
  /** How many waits there are before the schedule is spent (default: no end). */
  retries?: number;
}

/** Waiting for a store to answer: 100 ms, doubling up to 5 s. */
export const STORE_RETRY = { firstMs: 100, maxMs: 5_000 } as const satisfies BackoffSchedule;

/** Retrying a resource whose render, check or write failed, as Calico's confd does: 250 ms, doubling up to 5 s. */
export const RESOURCE_RETRY = { firstMs: 250, maxMs: 5_000 } as const satisfies BackoffSchedule;

/** Exponential backoff: the waits of one schedule, failure after failure, until reset. */
export class Backoff {
  #baseMs: number;
  #failures = 0;

  constructor(
    private readonly schedule: BackoffSchedule,
    private readonly random: () => number = Math.random,
  ) {
    this.#baseMs = schedule.firstMs;
  }

  /** Failures since the start or the last reset. */
  get failures(): number {
    return this.#failures;
  }

  /** One more failure: how long to wait before the next attempt, or undefined once the schedule is spent. */
  next(): number | undefined {
    const { maxMs = Infinity, doubleEvery = 1, jitter = false, retries = Infinity } = this.schedule;
    if (this.#failures >= retries) return undefined;
    this.#failures++;
    const baseMs = this.#baseMs;
    if (this.#failures % doubleEvery === 0) this.#baseMs = Math.min(baseMs * 2, maxMs);
    return jitter ? baseMs / 2 + this.random() * (baseMs / 2) : baseMs;
  }

  /** It worked: the next failure starts the schedule over. */
  reset(): void {
    this.#baseMs = this.schedule.firstMs;
    this.#failures = 0;
  }
}

/** Waits `ms`; true when the time ran out, false as soon as `stop` is aborted (or already was). */
export function waitUnlessStopped(ms: number, stop: AbortSignal): Promise<boolean> {
  return sleep(ms, true, { signal: stop }).catch(() => false);
}

/** How `work` ended, or undefined when `stop` was aborted first: a stop does not wait for a call that may never end. */
export function unlessStopped<T>(work: Promise<T>, stop: AbortSignal): Promise<{ value: T } | { err: unknown } | undefined> {
  return new Promise((resolve) => {
    const stopped = () => resolve(undefined);
    if (stop.aborted) stopped();
    stop.addEventListener("abort", stopped, { once: true });
    work.then(
      (value) => resolve({ value }),
      (err: unknown) => resolve({ err }),
    );
    // The listener goes once the work is done: a long retry loop would otherwise pile them up.
    void work.catch(() => undefined).finally(() => stop.removeEventListener("abort", stopped));
  });
}

export interface RetryOptions {
  schedule: BackoffSchedule;
  stop: AbortSignal;
  /** Told of each failure and the wait before the next attempt. */
  onFailure: (err: unknown, retryInMs: number) => void;
}

/**
 * `attempt` until it succeeds, waiting per `schedule` after each failure. Undefined once `stop` is
 * aborted, even while an attempt is still waiting; the last failure is thrown once the schedule is spent.
 */
export async function retryUntilStopped<T>(attempt: () => Promise<T>, { schedule, stop, onFailure }: RetryOptions): Promise<T | undefined> {
  const backoff = new Backoff(schedule);
  while (!stop.aborted) {
    const outcome = await unlessStopped(attempt(), stop);
    if (outcome === undefined) return undefined;
    if ("value" in outcome) return outcome.value;
    const delay = backoff.next();
    if (delay === undefined) throw outcome.err;
    onFailure(outcome.err, delay);
    if (!(await waitUnlessStopped(delay, stop))) return undefined;
  }
  return undefined;
}
