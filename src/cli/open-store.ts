/**
 * The store a command asked for: the file store or the etcd store, for a one-shot (listed once; etcd with
 * plain HTTP/2 calls first) or for the daemon, with `--calico-v3` the derivation over it.
 */
import type { Logger } from "../log/logger.js";
import { openEtcdStore } from "../store/etcd/index.js";
import { FileStore } from "../store/file-store.js";
import type { ListingStore, Store } from "../store/types.js";
import type { CalicoV3StoreOptions } from "../calico-v3/calico-v3-store.js";
import type { Config } from "./settings.js";

export interface OpenStoreOptions {
  /** Where the one-shot store says why the direct listing failed, and `--calico-v3` its problems. */
  logger?: Logger;
  /** The raw store even with --calico-v3 (`perch snapshot` saves the v3 datastore itself). */
  raw?: boolean;
  /** The environment templates see: NODENAME, and confd's CALICO_K8S_NODE_REF and NAMESPACE. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** The store of a one-shot command (render, snapshot): etcd through its direct lister. */
export async function openListingStore(config: Config, options: OpenStoreOptions = {}): Promise<ListingStore> {
  const source = config.backend === "file" ? new FileStore(config.keys as string) : await openEtcdStore(config, "one-shot", options.logger);
  if (!config.calicoV3 || options.raw) return source;
  const { CalicoV3Listing } = await import("../calico-v3/calico-v3-store.js");
  return new CalicoV3Listing(source, await calicoSourcePrefixes(config, options), calicoOptions(config, options));
}

/** The daemon's store: lists, then streams changes. */
export async function openWatchingStore(config: Config, options: OpenStoreOptions = {}): Promise<Store> {
  const source = config.backend === "file" ? new FileStore(config.keys as string) : await openEtcdStore(config, "watching", options.logger);
  if (!config.calicoV3) return source;
  const { CalicoV3Store } = await import("../calico-v3/calico-v3-store.js");
  return new CalicoV3Store(source, await calicoSourcePrefixes(config, options), calicoOptions(config, options));
}

async function calicoSourcePrefixes(config: Config, options: OpenStoreOptions): Promise<readonly string[]> {
  const { etcdSourcePrefixes, FILE_SOURCE_PREFIXES } = await import("../calico-v3/sources.js");
  return config.backend === "file" ? FILE_SOURCE_PREFIXES : etcdSourcePrefixes(options.env?.NODENAME ?? "");
}

function calicoOptions(config: Config, options: OpenStoreOptions): CalicoV3StoreOptions {
  const env = options.env ?? {};
  return {
    nodeName: env.NODENAME ?? "",
    env,
    kubernetesFile: config.calicoKubernetes,
  };
}
