/** The store a command asked for: the file store, or the etcd store for the command's mode. */
import type { Logger } from "../log/logger.js";
import { openEtcdStore } from "../store/etcd/index.js";
import { FileStore } from "../store/file-store.js";
import type { Store } from "../store/types.js";
import type { DerivationProblem } from "../calico-v3/derivation.js";
import type { Config } from "./settings.js";

export interface OpenStoreOptions {
  /**
   * A command that lists once and never watches (render, snapshot): etcd is listed with plain
   * HTTP/2 calls, without loading etcd3's gRPC stack, and through the etcd3 client only when that fails.
   */
  oneShot?: boolean;
  /** Where the one-shot store says why the direct listing failed, and `--calico-v3` its problems. */
  logger?: Logger;
  /** The raw store even with --calico-v3 (`perch snapshot` saves the v3 datastore itself). */
  raw?: boolean;
  /** The environment templates see: NODENAME, and confd's CALICO_K8S_NODE_REF and NAMESPACE. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Told of each `--calico-v3` problem besides the log (perch render's exit status counts them). */
  onProblem?: (problem: DerivationProblem) => void;
}

export async function openStore(config: Config, options: OpenStoreOptions = {}): Promise<Store> {
  const source = await openSource(config, options);
  if (!config.calicoV3 || options.raw) return source;
  const { CalicoV3Store } = await import("../calico-v3/calico-v3-store.js");
  const { etcdSourcePrefixes, FILE_SOURCE_PREFIXES } = await import("../calico-v3/sources.js");
  const env = options.env ?? {};
  const nodeName = env.NODENAME ?? "";
  const logger = options.logger;
  return new CalicoV3Store(source, config.backend === "file" ? FILE_SOURCE_PREFIXES : etcdSourcePrefixes(nodeName), {
    nodeName,
    env,
    kubernetesFile: config.calicoKubernetes,
    onProblem: (problem) => {
      logger?.[problem.severity === "error" ? "error" : "warn"]({ event: "calico-v3", key: problem.key }, problem.message);
      options.onProblem?.(problem);
    },
  });
}

async function openSource(config: Config, options: OpenStoreOptions): Promise<Store> {
  if (config.backend === "file") return new FileStore(config.keys as string);
  return openEtcdStore(config, options.oneShot ? "one-shot" : "watching", options.logger);
}
