/** The store a command asked for. etcd's client (gRPC) is imported only when it is used. */
import type { Logger } from "../log/logger.js";
import { FileStore } from "../store/file-store.js";
import type { Store } from "../store/types.js";
import type { Config } from "./settings.js";

export interface OpenStoreOptions {
  /**
   * A command that lists once and never watches (render, snapshot): etcd is listed with plain
   * HTTP/2 calls, without loading etcd3's gRPC stack, and through the etcd3 client only when that fails.
   */
  oneShot?: boolean;
  /** Where the one-shot store says, at debug level, why the direct listing failed. */
  logger?: Logger;
}

export async function openStore(config: Config, options: OpenStoreOptions = {}): Promise<Store> {
  if (config.backend === "file") return new FileStore(config.keys as string);
  if (options.oneShot) {
    const { OneShotEtcdStore } = await import("../store/etcd-oneshot.js");
    return new OneShotEtcdStore(config, options.logger);
  }
  const { createEtcdStore } = await import("../store/etcd-store.js");
  return createEtcdStore(config);
}
