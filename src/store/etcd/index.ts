/**
 * The entrance to the etcd store: the store for a command's mode, and what the settings check of
 * an etcd target. The clients are imported only when a store is opened: etcd3 (gRPC) takes a
 * noticeable time to load, and a one-shot command never loads it unless its direct listing fails.
 */
import type { Logger } from "../../log/logger.js";
import type { ListingStore, Store } from "../types.js";
import type { EtcdConnection } from "./target.js";

export { quietIpServerNameWarning } from "./ip-servername-warning.js";
export { sayProblem, targetProblems, type EtcdConnection, type TargetProblem } from "./target.js";

/** "one-shot" lists once and never watches (render, snapshot); "watching" lists, then streams changes (watch). */
export type EtcdMode = "one-shot" | "watching";

/** The store for `mode`; `logger` hears why a one-shot listing fell back to the etcd3 client. */
export async function openEtcdStore(target: EtcdConnection, mode: "one-shot", logger?: Logger): Promise<ListingStore>;
export async function openEtcdStore(target: EtcdConnection, mode: "watching", logger?: Logger): Promise<Store>;
export async function openEtcdStore(target: EtcdConnection, mode: EtcdMode, logger?: Logger): Promise<ListingStore> {
  if (mode === "one-shot") {
    const { OneShotEtcdStore } = await import("./oneshot-store.js");
    return new OneShotEtcdStore(target, logger);
  }
  const { createEtcdStore } = await import("./grpc-store.js");
  return createEtcdStore(target);
}
