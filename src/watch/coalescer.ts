/**
 * Coalesces changes into renders: a dirty resource is due once the store has been quiet for its
 * `min`, and at the latest `max` after the first change of the burst. Resources that fall due
 * together are handed over together, so one pass (and one reload) covers them.
 */
import type { WaitWindow } from "../util/duration.js";

interface Pending {
  first: number;
  last: number;
  wait: WaitWindow;
}

export class Coalescer {
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private paused = false;

  constructor(
    private readonly onDue: (names: string[]) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  mark(name: string, wait: WaitWindow): void {
    const t = this.now();
    const p = this.pending.get(name);
    if (p) p.last = t;
    else this.pending.set(name, { first: t, last: t, wait });
    this.arm();
  }

  /** While a pass runs nothing is handed over; changes keep accumulating. */
  pause(): void {
    this.paused = true;
    this.clearTimer();
  }

  resume(): void {
    this.paused = false;
    this.arm();
  }

  /** Everything pending, now (shutdown flushes; SIGHUP replaces the set). */
  drain(): string[] {
    const names = [...this.pending.keys()];
    this.pending.clear();
    this.clearTimer();
    return names;
  }

  stop(): void {
    this.pending.clear();
    this.clearTimer();
  }

  private deadline(p: Pending): number {
    return Math.min(p.last + p.wait.minMs, p.first + p.wait.maxMs);
  }

  private arm(): void {
    if (this.paused || this.pending.size === 0) return;
    let next = Infinity;
    for (const p of this.pending.values()) next = Math.min(next, this.deadline(p));
    this.clearTimer();
    const delay = next - this.now();
    // Due now (a zero wait): after the events already received, but without setTimeout's 1 ms floor.
    if (delay <= 0) this.immediate = setImmediate(() => this.fire());
    else this.timer = setTimeout(() => this.fire(), delay);
  }

  private fire(): void {
    this.timer = undefined;
    this.immediate = undefined;
    const t = this.now();
    const due: string[] = [];
    for (const [name, p] of this.pending) {
      // 1 ms of slack: timers fire a little early or late, and a due resource must not wait a turn.
      if (this.deadline(p) <= t + 1) due.push(name);
    }
    for (const name of due) this.pending.delete(name);
    if (due.length > 0) this.onDue(due);
    else this.arm();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}
