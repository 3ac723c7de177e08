/** The store a command asked for. etcd's client (gRPC) is imported only when it is used. */
import { FileStore } from "../store/file-store.js";
import type { Store } from "../store/types.js";
import type { Config } from "./settings.js";

export async function openStore(config: Config): Promise<Store> {
  if (config.backend === "file") return new FileStore(config.keys as string);
  const { createEtcdStore } = await import("../store/etcd-store.js");
  return createEtcdStore(config);
}
