import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { firstToAnswer } from "../../src/store/etcd/first-to-answer.js";

/** Endpoints whose answers the test settles by hand; records the order in which they were asked. */
function endpoints(count: number) {
  const asked: number[] = [];
  const pending = new Map<number, { resolve: (v: string) => void; reject: (e: unknown) => void }>();
  const ask = (index: number): Promise<string> => {
    asked.push(index);
    return new Promise((resolve, reject) => pending.set(index, { resolve, reject }));
  };
  const answer = (index: number) => pending.get(index)?.resolve(`answer ${index}`);
  const fail = (index: number, err: unknown = new Error(`down ${index}`)) => pending.get(index)?.reject(err);
  return { count, asked, ask, answer, fail };
}

/** Lets `ms` of (fake) time pass, running the timers and the promise callbacks due in it. */
const tick = (ms: number) => vi.advanceTimersByTimeAsync(ms);

describe("firstToAnswer", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("asks only the first endpoint when it answers in time", async () => {
    const e = endpoints(3);
    const result = firstToAnswer(e.count, e.ask, { staggerMs: 50 });
    e.answer(0);
    expect(await result).toEqual({ index: 0, value: "answer 0" });
    await tick(120);
    expect(e.asked).toEqual([0]);
  });

  it("asks the next one beside a silent one after the stagger, and takes its answer", async () => {
    const e = endpoints(3);
    const result = firstToAnswer(e.count, e.ask, { staggerMs: 30 });
    await tick(5);
    expect(e.asked).toEqual([0]);
    await tick(40);
    expect(e.asked).toEqual([0, 1]);
    e.answer(1);
    expect(await result).toEqual({ index: 1, value: "answer 1" });
    await tick(60);
    expect(e.asked).toEqual([0, 1]);
  });

  it("asks the next one at once when the newest one fails, without waiting for the stagger", async () => {
    const e = endpoints(3);
    const result = firstToAnswer(e.count, e.ask, { staggerMs: 10_000 });
    e.fail(0);
    await tick(0);
    expect(e.asked).toEqual([0, 1]);
    e.fail(1);
    await tick(0);
    e.answer(2);
    expect(await result).toEqual({ index: 2, value: "answer 2" });
  });

  it("takes a late answer from an earlier endpoint", async () => {
    const e = endpoints(2);
    const result = firstToAnswer(e.count, e.ask, { staggerMs: 10 });
    await tick(30);
    expect(e.asked).toEqual([0, 1]);
    e.answer(0);
    expect(await result).toEqual({ index: 0, value: "answer 0" });
  });

  it("fails with the first endpoint's failure, once all have failed", async () => {
    const e = endpoints(3);
    let settled = false;
    const result = firstToAnswer(e.count, e.ask, { staggerMs: 10 }).finally(() => (settled = true));
    await tick(40);
    e.fail(2);
    e.fail(0);
    await tick(0);
    expect(settled).toBe(false);
    e.fail(1);
    await expect(result).rejects.toThrow(/^down 0$/);
  });

  it("fails at once with a failure the caller calls fatal, while others are still out", async () => {
    const e = endpoints(3);
    const result = firstToAnswer(e.count, e.ask, { staggerMs: 10, isFatal: (x) => x instanceof Error && x.message === "wrong password" });
    await tick(30);
    e.fail(1, new Error("wrong password"));
    await expect(result).rejects.toThrow("wrong password");
  });
});
