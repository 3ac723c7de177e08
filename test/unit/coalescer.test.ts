import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Coalescer } from "../../src/watch/coalescer.js";

const zero = { minMs: 0, maxMs: 0 };
const window = { minMs: 50, maxMs: 200 };

describe("Coalescer", () => {
  let handed: Array<{ names: string[]; at: number }>;
  let coalescer: Coalescer;
  let start: number;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setImmediate", "clearImmediate", "Date"] });
    handed = [];
    coalescer = new Coalescer((names) => handed.push({ names, at: Date.now() - start }), () => Date.now());
    start = Date.now();
  });
  afterEach(() => {
    coalescer.stop();
    vi.useRealTimers();
  });

  it("hands over zero-wait changes after the current turn, all together", () => {
    coalescer.mark("bird", zero);
    coalescer.mark("bird6", zero);
    expect(handed).toEqual([]);
    vi.runOnlyPendingTimers();
    expect(handed).toEqual([{ names: ["bird", "bird6"], at: 0 }]);
  });

  it("hands over zero-wait changes in the same loop turn, not after setTimeout's 1 ms floor", async () => {
    vi.useRealTimers();
    const real = new Coalescer((names) => handed.push({ names, at: 0 }));
    real.mark("bird", zero);
    // Immediates run in the order they were queued: the coalescer's comes first if it used one.
    const seen = await new Promise<number>((resolve) => setImmediate(() => resolve(handed.length)));
    real.stop();
    expect(seen).toBe(1);
  });

  it("waits until the store is quiet for min", () => {
    coalescer.mark("bird", window);
    vi.advanceTimersByTime(30);
    coalescer.mark("bird", window);
    vi.advanceTimersByTime(200);
    expect(handed).toEqual([{ names: ["bird"], at: 80 }]);
  });

  it("hands over at most max after the first change, however busy the store", () => {
    coalescer.mark("bird", window);
    for (let t = 30; t <= 300; t += 30) {
      vi.advanceTimersByTime(30);
      coalescer.mark("bird", window);
    }
    expect(handed[0]).toEqual({ names: ["bird"], at: 200 });
  });

  it("holds everything while paused and hands it over on resume", () => {
    coalescer.pause();
    coalescer.mark("bird", zero);
    vi.runAllTimers();
    expect(handed).toEqual([]);
    coalescer.resume();
    vi.runAllTimers();
    expect(handed.map((h) => h.names)).toEqual([["bird"]]);
  });

  it("drain takes everything pending at once and cancels the handover", () => {
    coalescer.mark("bird", zero);
    coalescer.mark("bird_aggr", window);
    expect(coalescer.drain().sort()).toEqual(["bird", "bird_aggr"]);
    vi.runAllTimers();
    expect(handed).toEqual([]);
  });
});
