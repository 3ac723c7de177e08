/**
 * Endpoint failover for the etcd3 store: one etcd3 client per endpoint, one endpoint in use, the
 * next one when it fails (as etcd's Go client does). Not etcd3's own choice among several hosts: it
 * picks one at random per call, so a member down without refusing connections stalled one call in n.
 */
import type { Etcd3 } from "etcd3";
import type { PerchError } from "../../errors.js";
import { explain, isEndpointFailure, type Explaining } from "./explain.js";
import { firstToAnswer } from "./first-to-answer.js";

export class EtcdClients {
  // #private: the clients' options hold the password and the key material, out of reach of
  // util.inspect and a logger's serializer.
  /** Made when first used; undefined again after dropClients. */
  #clients: Array<Etcd3 | undefined> = [];
  /** Index of the endpoint in use (see failedOver). */
  #current = 0;
  readonly #makeClient: (endpoint: string) => Etcd3;
  readonly #explaining: Explaining;

  constructor(
    readonly endpointList: readonly string[],
    makeClient: (endpoint: string) => Etcd3,
    explaining: Explaining,
  ) {
    this.#makeClient = makeClient;
    this.#explaining = explaining;
  }

  /** The endpoints as given, for messages. */
  get endpoints(): string {
    return this.#explaining.endpoints;
  }

  /** Index of the endpoint in use: the one that answered the probe, or the next after a failure. */
  get current(): number {
    return this.#current;
  }

  clientAt(index: number): Etcd3 {
    return (this.#clients[index] ??= this.#makeClient(this.endpointList[index] as string));
  }

  /**
   * Endpoint `index` failed: what comes next goes to the one after it. A failure on an endpoint
   * that is no longer in use (another call moved on meanwhile) moves nothing.
   */
  failedOver(index: number): void {
    if (index === this.#current) this.#current = (index + 1) % this.endpointList.length;
  }

  /**
   * `call` with the client of the endpoint in use. When the endpoint fails (unreachable, no answer
   * by the deadline, its circuit breaker open), again with the next one: once per endpoint, and at
   * least three times (etcd3's own retry, which one endpoint keeps).
   */
  async run<T>(call: (client: Etcd3) => Promise<T>): Promise<T> {
    const attempts = Math.max(3, this.endpointList.length);
    for (let attempt = 1; ; attempt++) {
      const index = this.#current;
      try {
        return await call(this.clientAt(index));
      } catch (err) {
        if (attempt >= attempts || !isEndpointFailure(err)) throw err;
        this.failedOver(index);
      }
    }
  }

  /**
   * `ask` of the endpoint in use and, should it fail or not answer within the stagger (STAGGER_MS),
   * of the next ones beside it (firstToAnswer): the first to answer becomes the endpoint in use, and
   * its index is the result. A member that answers nothing costs the stagger, not the request deadline.
   */
  async firstAnswering(ask: (client: Etcd3) => Promise<unknown>): Promise<number> {
    const count = this.endpointList.length;
    const start = this.#current;
    const asking = async (k: number): Promise<number> => {
      const index = (start + k) % count;
      await ask(this.clientAt(index));
      return index;
    };
    // A wrong password or CA is wrong for every member: reported as soon as one says so.
    const { value } = await firstToAnswer(count, asking, { isFatal: (err) => !isEndpointFailure(err) });
    this.#current = value;
    return value;
  }

  /** `err` in a user's terms, naming these endpoints. */
  explain(err: unknown): Promise<PerchError> {
    return explain(err, this.#explaining);
  }

  /**
   * Closes every client; the next call makes a fresh one. Also how a reconnect that keeps failing
   * starts over: whatever state the old clients are stuck in (a circuit breaker, a token exchange,
   * a gRPC channel) goes with them.
   */
  dropClients(): void {
    for (const client of this.#clients) client?.close();
    this.#clients = [];
  }
}
