/** The first wait before a change stream reconnects, and the longest. */
export const INITIAL_BACKOFF_MS = 100;
export const MAX_BACKOFF_MS = 5000;
/**
 * Rounds of failed reconnects after which the clients are replaced (see Connection.renew in
 * etcd-store.ts): about 15 s of backoff with one endpoint, longer with more. Not sooner: a client
 * whose endpoint keeps failing has its circuit breaker open, which makes passing it over quick, and
 * a new client forgets that.
 */
export const RENEW_CLIENT_AFTER = 8;

export interface NextReconnect {
  /** How long to wait before reconnecting. */
  delayMs: number;
  /**
   * Replace the client before reconnecting: reconnecting keeps failing although etcd may well be
   * back (seen after an etcd restart with auth, on a loaded machine), so start over.
   */
  renewClient: boolean;
}

/**
 * Exponential backoff with jitter for a change stream's reconnects. The wait doubles after each
 * round of failures, a round being one failure per endpoint: each reconnect after a failure goes to
 * the next endpoint, so the wait grows only once every endpoint has failed, not while a dead one is
 * passed over on the way to a live one. With one endpoint, a round is one failure.
 */
export class ReconnectBackoff {
  private baseMs = INITIAL_BACKOFF_MS;
  private failures = 0;

  constructor(
    private readonly endpoints: number,
    private readonly random: () => number = Math.random,
  ) {}

  failed(): NextReconnect {
    this.failures++;
    // Jitter: a fleet of nodes does not reconnect to a recovered etcd in lockstep.
    const delayMs = this.baseMs / 2 + this.random() * (this.baseMs / 2);
    if (this.failures % this.endpoints === 0) this.baseMs = Math.min(this.baseMs * 2, MAX_BACKOFF_MS);
    return { delayMs, renewClient: this.failures % (RENEW_CLIENT_AFTER * this.endpoints) === 0 };
  }

  /** The stream is up again: the next failure starts from the first wait. */
  succeeded(): void {
    this.baseMs = INITIAL_BACKOFF_MS;
    this.failures = 0;
  }
}
