/**
 * The Calico v3 → v1 derivation, kept up to date incrementally. Raw datastore keys are decoded into
 * records; each record feeds one family of v1 keys (a node's host keys, the global keys, the pools,
 * the peerings, the service routes, one affinity), and a change recomputes only the families it can
 * affect, then reports the v1 keys whose value changed. A fresh derivation and an incremental one
 * of the same final state give the same view, key for key.
 */
import type { ChangeEvent, KeyValue, StoreProblem } from "../store/types.js";
import { globalConfigKeys, nodeConfigKeys, PER_NODE_CONFIG_PREFIX } from "./derive/bgp-config-keys.js";
import { NodeIndex } from "./derive/node-index.js";
import { nodeKeys } from "./derive/node-keys.js";
import { peeringKeys } from "./derive/peerings.js";
import { poolKeys } from "./derive/pool-keys.js";
import { serviceRouteKeys } from "./derive/service-routes.js";
import { DEFAULT_AS_NUMBER, type KeyMap } from "./derive/v1-keys.js";
import { FieldError } from "./fields.js";
import { goJson } from "./go-json.js";
import { NO_KUBERNETES_OBJECTS, type KubernetesObjects } from "./kubernetes.js";
import { classifyKey, decodeResource, type BgpConfigRecord, type PeerRecord, type PoolRecord } from "./resources.js";

export type DerivedChange = { type: "put"; key: string; value: string } | { type: "delete"; key: string };

/**
 * Something in the datastore the derivation could not use; `key` is the etcd key when there is one.
 * error: something was left out of the view; warning: Calico goes on the same way (a missing Secret).
 */
export type DerivationProblem = StoreProblem;

export interface DerivationOptions {
  /** Whose block affinities are in the view. */
  nodeName: string;
  /** Whose endpoints make a Service's route local (confd: $CALICO_K8S_NODE_REF, else the node name). */
  nodeRef: string;
  /** Where BGP password Secrets are looked up (confd: $NAMESPACE, else kube-system). */
  secretsNamespace: string;
  /** Called once for each problem as it appears (not again while it stays). */
  onProblem?: (problem: DerivationProblem) => void;
}

const GLOBAL = "global";
const ROUTES = "routes";
const PEERINGS = "peerings";
const POOLS = "pools";
const NODE = "node:";
const NODE_CONFIG = "node-config:";
const AFFINITY = "affinity:";

export class CalicoDerivation {
  private readonly nodes = new NodeIndex();
  private readonly peers = new Map<string, PeerRecord>();
  private readonly pools = new Map<string, PoolRecord>();
  private readonly nodeConfigs = new Map<string, BgpConfigRecord>();
  private defaultConfig: BgpConfigRecord | undefined;
  /** This node's block affinities: key → the raw value. */
  private readonly affinities = new Map<string, string>();
  private kubernetes: KubernetesObjects = NO_KUBERNETES_OBJECTS;
  private secrets = new Map<string, Readonly<Record<string, string>>>();

  /** The v1 view, by the family that wrote each part of it (families never share a key). */
  private readonly families = new Map<string, KeyMap>();
  /** Problems by etcd key (a resource left out) or by family (a missing Secret). */
  private readonly problemsByOrigin = new Map<string, DerivationProblem[]>();

  constructor(private readonly options: DerivationOptions) {}

  /** The derived v1 view: key → value, put together from the families (a listing asks once). */
  entries(): ReadonlyMap<string, string> {
    const view = new Map<string, string>();
    for (const keys of this.families.values()) for (const [key, value] of keys) view.set(key, value);
    return view;
  }

  /** Every problem standing now. */
  problems(): DerivationProblem[] {
    return [...this.problemsByOrigin.values()].flat();
  }

  /**
   * Replace the datastore with a complete listing (and, when given, the Kubernetes objects read with
   * it); returns the changes to the view.
   */
  reset(kvs: Iterable<KeyValue>, kubernetes?: KubernetesObjects): DerivedChange[] {
    const standing = this.standingMessages();
    if (kubernetes !== undefined) this.takeKubernetes(kubernetes);
    this.nodes.clear();
    this.peers.clear();
    this.pools.clear();
    this.nodeConfigs.clear();
    this.affinities.clear();
    this.defaultConfig = undefined;
    for (const origin of [...this.problemsByOrigin.keys()]) if (origin.startsWith("/")) this.problemsByOrigin.delete(origin);
    const dirty = new Set([GLOBAL, ROUTES, PEERINGS, POOLS, ...this.families.keys()]);
    for (const { key, value } of kvs) this.ingest(key, value, dirty);
    return this.recompute(dirty, standing);
  }

  /** Apply datastore change events in order; returns the changes to the view. */
  apply(events: readonly ChangeEvent[]): DerivedChange[] {
    const standing = this.standingMessages();
    const dirty = new Set<string>();
    for (const ev of events) this.ingest(ev.key, ev.type === "put" ? ev.value : undefined, dirty);
    return this.recompute(dirty, standing);
  }

  /** New Kubernetes objects (Secrets for passwords, Services and Endpoints for routes). */
  setKubernetes(objects: KubernetesObjects): DerivedChange[] {
    const standing = this.standingMessages();
    this.takeKubernetes(objects);
    return this.recompute(new Set([PEERINGS, ROUTES]), standing);
  }

  private takeKubernetes(objects: KubernetesObjects): void {
    this.kubernetes = objects;
    this.secrets = new Map(objects.secrets.filter((s) => s.namespace === this.options.secretsNamespace).map((s) => [s.name, s.data]));
  }

  /** Take one raw key's new value (undefined: deleted) into the records, marking what it affects. */
  private ingest(key: string, value: string | undefined, dirty: Set<string>): void {
    const what = classifyKey(key);
    if (what.type === "ignored") return;
    this.setProblems(key, []);
    if (what.type === "unknown") {
      if (value !== undefined) this.setProblems(key, [{ key, message: `${key}: ${what.why}; ignored`, severity: "error" }]);
      return;
    }
    if (what.type === "affinity") {
      if (what.host !== this.options.nodeName) return;
      if (value === undefined) this.affinities.delete(key);
      else this.affinities.set(key, value);
      dirty.add(AFFINITY + key);
      return;
    }
    let decoded;
    if (value !== undefined) {
      try {
        decoded = decodeResource(what.plural, what.name, value);
      } catch (err) {
        if (!(err instanceof FieldError)) throw err;
        this.setProblems(key, [{ key, message: `${key}: ${err.message}; the resource is left out`, severity: "error" }]);
      }
    }
    // A value that does not decode leaves the resource out, as a delete would.
    switch (what.plural) {
      case "nodes":
        dirty.add(NODE + what.name);
        // Peerings read a Node's labels, addresses, AS and cluster id: a change to anything else spares them.
        if (this.nodes.set(what.name, decoded?.plural === "nodes" ? decoded.record : undefined)) dirty.add(PEERINGS);
        break;
      case "bgppeers":
        this.peers.delete(what.name);
        if (decoded?.plural === "bgppeers") this.peers.set(what.name, decoded.record);
        dirty.add(PEERINGS);
        break;
      case "ippools":
        this.pools.delete(what.name);
        if (decoded?.plural === "ippools") this.pools.set(what.name, decoded.record);
        dirty.add(POOLS);
        break;
      case "bgpconfigurations":
        this.ingestConfig(key, what.name, decoded?.plural === "bgpconfigurations" ? decoded.record : undefined, dirty);
        break;
    }
  }

  private ingestConfig(key: string, name: string, record: BgpConfigRecord | undefined, dirty: Set<string>): void {
    if (name === "default") {
      this.defaultConfig = record;
      dirty.add(GLOBAL).add(ROUTES).add(PEERINGS);
    } else if (name.startsWith(PER_NODE_CONFIG_PREFIX)) {
      const node = name.slice(PER_NODE_CONFIG_PREFIX.length);
      if (record === undefined) this.nodeConfigs.delete(node);
      else this.nodeConfigs.set(node, record);
      dirty.add(NODE_CONFIG + node).add(PEERINGS);
    } else if (record !== undefined) {
      this.setProblems(key, [{ key, message: `${key}: a BGPConfiguration is named "default" or "node.<node name>", not ${JSON.stringify(name)}; ignored`, severity: "error" }]);
    }
  }

  /** Recompute the dirty families; report the problems that were not standing before the operation. */
  private recompute(dirty: ReadonlySet<string>, standing: ReadonlySet<string>): DerivedChange[] {
    const changes: DerivedChange[] = [];
    for (const family of dirty) this.replaceFamily(family, this.compute(family), changes);
    for (const problem of this.problems()) if (!standing.has(problem.message)) this.options.onProblem?.(problem);
    return changes;
  }

  private standingMessages(): Set<string> {
    return new Set(this.problems().map((p) => p.message));
  }

  private compute(family: string): KeyMap {
    if (family === GLOBAL) return globalConfigKeys(this.defaultConfig);
    if (family === ROUTES) return serviceRouteKeys(this.defaultConfig, this.kubernetes, this.options.nodeRef);
    if (family === POOLS) return poolKeys(this.pools.values());
    if (family === PEERINGS) return this.computePeerings();
    if (family.startsWith(NODE)) {
      const node = this.nodes.get(family.slice(NODE.length));
      return node === undefined ? new Map() : nodeKeys(node);
    }
    if (family.startsWith(NODE_CONFIG)) {
      const node = family.slice(NODE_CONFIG.length);
      const config = this.nodeConfigs.get(node);
      return config === undefined ? new Map() : nodeConfigKeys(node, config);
    }
    return this.computeAffinity(family.slice(AFFINITY.length));
  }

  private computePeerings(): KeyMap {
    const problems: DerivationProblem[] = [];
    const nodeListenPorts = new Map<string, number>();
    for (const [node, config] of this.nodeConfigs) if (config.listenPort !== undefined) nodeListenPorts.set(node, config.listenPort);
    const selectorsInUse = new Set<string>();
    for (const peer of this.peers.values()) for (const selector of [peer.nodeSelector, peer.peerSelector]) if (selector) selectorsInUse.add(selector.source);
    this.nodes.retainSelectors(selectorsInUse);
    const keys = peeringKeys({
      peers: this.peers,
      nodes: this.nodes,
      globalAsNumber: this.defaultConfig?.asNumber ?? DEFAULT_AS_NUMBER,
      globalListenPort: this.defaultConfig?.listenPort ?? 0,
      nodeListenPorts,
      secret: (name, key) => this.secretValue(name, key),
      problem: (message) => problems.push({ message, severity: "warning" }),
    });
    this.setProblems(PEERINGS, problems);
    return keys;
  }

  private secretValue(name: string, key: string): { value: string } | { missing: string } {
    const where = `${this.options.secretsNamespace}/${name}`;
    const data = this.secrets.get(name);
    if (data === undefined) return { missing: `Secret ${where} does not exist` };
    if (!Object.hasOwn(data, key)) return { missing: `Secret ${where} has no key ${JSON.stringify(key)}` };
    return { value: Buffer.from(data[key] as string, "base64").toString("utf8") };
  }

  private computeAffinity(key: string): KeyMap {
    const raw = this.affinities.get(key);
    if (raw === undefined) return new Map();
    const affinity = decodeAffinity(raw);
    if (typeof affinity === "string") {
      this.setProblems(key, [{ key, message: `${key}: block affinity: ${affinity}; the affinity is left out`, severity: "error" }]);
      return new Map();
    }
    return new Map([[key, goJson(affinity)]]);
  }

  private replaceFamily(family: string, next: KeyMap, changes: DerivedChange[]): void {
    const previous = this.families.get(family);
    for (const [key, value] of next) {
      if (previous?.get(key) === value) continue;
      changes.push({ type: "put", key, value });
    }
    if (previous !== undefined) {
      for (const key of previous.keys()) {
        if (next.has(key)) continue;
        changes.push({ type: "delete", key });
      }
    }
    if (next.size === 0) this.families.delete(family);
    else this.families.set(family, next);
  }

  private setProblems(origin: string, problems: DerivationProblem[]): void {
    if (problems.length === 0) this.problemsByOrigin.delete(origin);
    else this.problemsByOrigin.set(origin, problems);
  }
}

/** libcalico-go reads `{"state", "deleted"}` (an empty value is `{}`) and writes both fields back; a string says what is wrong. */
function decodeAffinity(raw: string): { state: string; deleted: boolean } | string {
  let doc: unknown = {};
  try {
    if (raw !== "") doc = JSON.parse(raw);
  } catch (err) {
    return `value is not JSON: ${(err as Error).message}`;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return "value is not a JSON object";
  const { state, deleted } = doc as { state?: unknown; deleted?: unknown };
  if (state !== undefined && typeof state !== "string") return "state must be a string";
  if (deleted !== undefined && typeof deleted !== "boolean") return "deleted must be true or false";
  return { state: state ?? "", deleted: deleted ?? false };
}
