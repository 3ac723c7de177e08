import { describe, expect, it } from "vitest";
import { Backoff, retryUntilStopped, STORE_RETRY, waitUnlessStopped } from "../../src/util/retry.js";
import { RELOAD_RETRY } from "../../src/watch/reload-retry.js";

const waits = (backoff: Backoff, n: number) => Array.from({ length: n }, () => backoff.next());

describe("Backoff", () => {
  it("waits for a store 100 ms, doubling up to 5 s", () => {
    expect(waits(new Backoff(STORE_RETRY), 9)).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });

  it("retries a reload after 1 s, 2 s, 4 s, … up to a minute, without end", () => {
    expect(waits(new Backoff(RELOAD_RETRY), 9)).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });

  it("is spent after `retries` waits", () => {
    expect(waits(new Backoff({ firstMs: 1000, retries: 2 }), 4)).toEqual([1000, 2000, undefined, undefined]);
  });

  it("starts over after a reset", () => {
    const backoff = new Backoff(STORE_RETRY);
    waits(backoff, 4);
    backoff.reset();
    expect(backoff.failures).toBe(0);
    expect(waits(backoff, 2)).toEqual([100, 200]);
  });
});

describe("waitUnlessStopped", () => {
  it("is false at once when stopped, true when the time ran out", async () => {
    const stop = new AbortController();
    const waiting = waitUnlessStopped(60_000, stop.signal);
    stop.abort();
    expect(await waiting).toBe(false);
    expect(await waitUnlessStopped(1, new AbortController().signal)).toBe(true);
    expect(await waitUnlessStopped(60_000, stop.signal)).toBe(false);
  });
});

describe("retryUntilStopped", () => {
  it("tries until it works, telling each failure and its wait", async () => {
    const failures: number[] = [];
    let calls = 0;
    const value = await retryUntilStopped(async () => (++calls < 3 ? Promise.reject(new Error("no")) : "yes"), {
      schedule: { firstMs: 1 },
      stop: new AbortController().signal,
      onFailure: (_err, retryInMs) => failures.push(retryInMs),
    });
    expect(value).toBe("yes");
    expect(failures).toEqual([1, 2]);
  });

  it("gives up at once when stopped while an attempt never answers", async () => {
    const stop = new AbortController();
    const retrying = retryUntilStopped(() => new Promise<never>(() => undefined), { schedule: STORE_RETRY, stop: stop.signal, onFailure: () => undefined });
    stop.abort();
    expect(await retrying).toBeUndefined();
  });

  it("throws the last failure once the schedule is spent", async () => {
    const retrying = retryUntilStopped(() => Promise.reject(new Error("still no")), { schedule: { firstMs: 1, retries: 2 }, stop: new AbortController().signal, onFailure: () => undefined });
    await expect(retrying).rejects.toThrow("still no");
  });
});
