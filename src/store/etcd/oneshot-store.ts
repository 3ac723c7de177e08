/**
 * The etcd store of one-shot commands (render, snapshot): `list()` through the direct lister, and
 * should it fail for any reason (no endpoint reachable, TLS, authentication, an HTTP or gRPC status,
 * a malformed answer, a timeout) again through the etcd3 store, imported only then, so that a user
 * meets the etcd3 store's errors, which say what is wrong, and never the direct lister's.
 */
import { errorMessage } from "../../errors.js";
import type { Logger } from "../../log/logger.js";
import type { ListingStore, Snapshot, Store } from "../types.js";
import { listDirect } from "./direct-list.js";
import type { EtcdStoreOptions } from "./grpc-store.js";

export class OneShotEtcdStore implements ListingStore {
  readonly kind = "etcd";
  // #private: the options hold the password, out of reach of util.inspect and loggers.
  readonly #options: EtcdStoreOptions;
  readonly #logger: Logger | undefined;
  readonly #listDirect: typeof listDirect;
  #etcd3: Promise<Store> | undefined;

  /** `direct` is the fast lister; tests pass one that fails to reach the fall-back. */
  constructor(options: EtcdStoreOptions, logger?: Logger, direct: typeof listDirect = listDirect) {
    this.#options = options;
    this.#logger = logger;
    this.#listDirect = direct;
  }

  async list(prefixes: readonly string[]): Promise<Snapshot> {
    if (this.#etcd3 === undefined) {
      try {
        return await this.#listDirect(this.#options, prefixes);
      } catch (err) {
        this.#logger?.debug({ event: "list", via: "http2", err: errorMessage(err) }, "the direct listing failed; listing through the etcd3 client");
      }
    }
    return (await this.etcd3()).list(prefixes);
  }

  async close(): Promise<void> {
    // A store that failed to open has nothing to close (its error went to the caller of list()).
    await this.#etcd3?.then(
      (store) => store.close(),
      () => undefined,
    );
  }

  private etcd3(): Promise<Store> {
    this.#etcd3 ??= import("./grpc-store.js").then(({ createEtcdStore }) => createEtcdStore(this.#options));
    return this.#etcd3;
  }
}
