import { describe, expect, it } from "vitest";
import { INITIAL_BACKOFF_MS, MAX_BACKOFF_MS, RENEW_CLIENT_AFTER, ReconnectBackoff } from "../../src/store/etcd/reconnect-backoff.js";

/** `n` failures in a row: the delays (with the jitter at its top, so each is the full wait) and where the client is renewed. */
function failures(backoff: ReconnectBackoff, n: number): { delays: number[]; renewedAt: number[] } {
  const delays: number[] = [];
  const renewedAt: number[] = [];
  for (let i = 1; i <= n; i++) {
    const next = backoff.failed();
    delays.push(next.delayMs);
    if (next.renewClient) renewedAt.push(i);
  }
  return { delays, renewedAt };
}

describe("ReconnectBackoff", () => {
  it("with one endpoint, doubles after every failure up to the cap, and renews the client every 8 failures", () => {
    const { delays, renewedAt } = failures(new ReconnectBackoff(1, () => 1), 17);
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000]);
    expect(renewedAt).toEqual([RENEW_CLIENT_AFTER, 2 * RENEW_CLIENT_AFTER]);
  });

  it("with three endpoints, doubles once per round of three failures, and renews after 8 rounds", () => {
    // etcd3 opens each stream on a random endpoint: a dead one among three is met by a third of
    // the reconnects, and a run of such picks must not push the wait up on every one of them.
    const { delays, renewedAt } = failures(new ReconnectBackoff(3, () => 1), 24);
    expect(delays.slice(0, 9)).toEqual([100, 100, 100, 200, 200, 200, 400, 400, 400]);
    expect(Math.max(...delays)).toBe(MAX_BACKOFF_MS);
    expect(renewedAt).toEqual([3 * RENEW_CLIENT_AFTER]);
  });

  it("jitters each wait between half and all of it", () => {
    const low = new ReconnectBackoff(1, () => 0);
    expect(failures(low, 3).delays).toEqual([50, 100, 200]);
    const mid = new ReconnectBackoff(1, () => 0.5);
    expect(mid.failed().delayMs).toBe(75);
  });

  it("starts over from the first wait once the stream is up again", () => {
    const backoff = new ReconnectBackoff(2, () => 1);
    failures(backoff, 7);
    backoff.succeeded();
    const { delays, renewedAt } = failures(backoff, 3);
    expect(delays).toEqual([INITIAL_BACKOFF_MS, INITIAL_BACKOFF_MS, 2 * INITIAL_BACKOFF_MS]);
    expect(renewedAt).toEqual([]);
  });
});
