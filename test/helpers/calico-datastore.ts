// Calico's v3.16 datastore cases (../shared/conformance/calico-v3.16-datastore): finding them,
// reading them, and deriving their v1 view the way `--calico-v3` does.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { CalicoDerivation, type DerivationProblem } from "../../src/calico-v3/derivation.js";
import { parseKubernetesObjects, NO_KUBERNETES_OBJECTS, type KubernetesObjects } from "../../src/calico-v3/kubernetes.js";
import { conformanceRoot, findCases } from "./conformance.js";

export const datastoreRoot = path.join(conformanceRoot, "calico-v3.16-datastore");
export const v1Root = path.join(conformanceRoot, "calico-v3.16");

/** Every case of the datastore tree (a directory holding an etcd.json), relative to it, sorted. */
export function findDatastoreCases(): string[] {
  return findCases(datastoreRoot, "etcd.json");
}

export interface DatastoreCase {
  env: Record<string, string>;
  etcd: Record<string, string>;
  kubernetes: KubernetesObjects;
  kubernetesFile?: string;
  etcdFile: string;
  /** The v1 cache Calico's confd holds for the same case. */
  keys: Record<string, string>;
  unpinned: Set<string>;
}

const unpinnedByCase = JSON.parse(readFileSync(path.join(v1Root, "unpinned-keys.json"), "utf8")) as Record<string, string[]>;

export function readDatastoreCase(rel: string): DatastoreCase {
  const dir = path.join(datastoreRoot, rel);
  const read = (file: string): unknown => JSON.parse(readFileSync(file, "utf8"));
  const kubernetesFile = path.join(dir, "kubernetes.json");
  const hasKubernetes = existsSync(kubernetesFile);
  return {
    env: read(path.join(dir, "env.json")) as Record<string, string>,
    etcd: read(path.join(dir, "etcd.json")) as Record<string, string>,
    kubernetes: hasKubernetes ? parseKubernetesObjects(read(kubernetesFile)) : NO_KUBERNETES_OBJECTS,
    kubernetesFile: hasKubernetes ? kubernetesFile : undefined,
    etcdFile: path.join(dir, "etcd.json"),
    keys: read(path.join(v1Root, rel, "keys.json")) as Record<string, string>,
    unpinned: new Set(unpinnedByCase[rel] ?? []),
  };
}

/** A fresh derivation of a case's datastore, as node `env.NODENAME`. */
export function deriveCase(c: Pick<DatastoreCase, "env" | "etcd" | "kubernetes">): { view: Map<string, string>; problems: DerivationProblem[] } {
  const nodeName = c.env.NODENAME as string;
  const derivation = new CalicoDerivation({ nodeName, nodeRef: nodeName, secretsNamespace: "kube-system" });
  derivation.setKubernetes(c.kubernetes);
  derivation.reset(Object.entries(c.etcd).map(([key, value]) => ({ key, value })));
  return { view: new Map(derivation.entries()), problems: derivation.problems() };
}
