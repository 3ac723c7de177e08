import { Backoff, STORE_RETRY } from "../../util/retry.js";

/** The first wait before a change stream reconnects, and the longest. */
export const INITIAL_BACKOFF_MS = STORE_RETRY.firstMs;
export const MAX_BACKOFF_MS = STORE_RETRY.maxMs;
/**
 * Rounds of failed reconnects after which the clients are replaced. Not sooner: a failing endpoint's
 * open circuit breaker makes passing it over quick, and a new client forgets that.
 */
export const RENEW_CLIENT_AFTER = 8;

export interface NextReconnect {
  /** How long to wait before reconnecting. */
  delayMs: number;
  /** Replace the clients before reconnecting: reconnecting keeps failing although etcd may well be back. */
  renewClient: boolean;
}

/**
 * A change stream's reconnects: the store's schedule with jitter, the wait doubling once per round
 * of failures, a round being one failure per endpoint. Each reconnect after a failure goes to the
 * next endpoint, so the wait grows only once every endpoint has failed, not while a dead one is
 * passed over on the way to a live one.
 */
export class ReconnectBackoff {
  private readonly backoff: Backoff;

  constructor(
    private readonly endpoints: number,
    random: () => number = Math.random,
  ) {
    this.backoff = new Backoff({ ...STORE_RETRY, jitter: true, doubleEvery: endpoints }, random);
  }

  failed(): NextReconnect {
    // A schedule without a retry limit is never spent.
    const delayMs = this.backoff.next() as number;
    return { delayMs, renewClient: this.backoff.failures % (RENEW_CLIENT_AFTER * this.endpoints) === 0 };
  }

  /** The stream is up again: the next failure starts from the first wait. */
  succeeded(): void {
    this.backoff.reset();
  }
}
