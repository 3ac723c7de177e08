// The Calico v3 → v1 derivation (src/calico-v3/) case by case: every error a user can put in the
// datastore, with its message, leaves exactly that resource out and the rest of the view derived;
// confd's defaults; which v1 keys an update changes; the Kubernetes objects file in both of its
// shapes; and the --calico-v3 store over a file store, listing and watching both files.
import { readFileSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CalicoV3Store } from "../../src/calico-v3/calico-v3-store.js";
import { CalicoDerivation, type DerivationProblem, type DerivedChange } from "../../src/calico-v3/derivation.js";
import { NO_KUBERNETES_OBJECTS, parseKubernetesObjects, readKubernetesFile, type KubernetesObjects } from "../../src/calico-v3/kubernetes.js";
import { parseSelector } from "../../src/calico-v3/selector.js";
import { FILE_SOURCE_PREFIXES } from "../../src/calico-v3/sources.js";
import { PerchError } from "../../src/errors.js";
import { FileStore } from "../../src/store/file-store.js";
import type { StreamSignal } from "../../src/store/types.js";
import { datastoreRoot, deriveCase, readDatastoreCase } from "../helpers/calico-datastore.js";

const RES = "/calico/resources/v3/projectcalico.org/";
const HOST = "/calico/bgp/v1/host";
const GLOBAL = "/calico/bgp/v1/global";

/** A v3 resource as libcalico-go stores it (kind, apiVersion, metadata, spec; a Node adds status). */
function resource(kind: string, name: string, spec: unknown, metadata: Record<string, unknown> = {}): string {
  const meta = { name, uid: "a50568b5-9d7d-11eb-8035-02425f000001", creationTimestamp: "2021-04-15T00:00:53Z", ...metadata };
  return JSON.stringify(kind === "Node" ? { kind, apiVersion: "projectcalico.org/v3", metadata: meta, spec, status: {} } : { kind, apiVersion: "projectcalico.org/v3", metadata: meta, spec });
}

function without(etcd: Record<string, string>, key: string): Record<string, string> {
  const out = { ...etcd };
  delete out[key];
  return out;
}

function sortChanges(changes: readonly DerivedChange[]): DerivedChange[] {
  return [...changes].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** A derivation that has read a case's datastore, as its NODENAME, as CalicoV3Store.list does. */
function derivationOf(etcd: Record<string, string>, nodeName: string, kubernetes: KubernetesObjects = NO_KUBERNETES_OBJECTS): CalicoDerivation {
  const d = new CalicoDerivation({ nodeName, nodeRef: nodeName, secretsNamespace: "kube-system" });
  d.setKubernetes(kubernetes);
  d.reset(Object.entries(etcd).map(([key, value]) => ({ key, value })));
  return d;
}

// explicit_peering/selectors: three labelled nodes, a selector peer, a per-node listen port, a
// pool and kube-master's block affinities: every family of the view in one small cluster.
const selectors = readDatastoreCase("explicit_peering/selectors");
const SELECTORS_NODE = "kube-master";
const derive = (etcd: Record<string, string>) => deriveCase({ env: selectors.env, etcd, kubernetes: NO_KUBERNETES_OBJECTS });

const NODE1 = `${RES}nodes/kube-node-1`;
const DEFAULT_CONFIG = `${RES}bgpconfigurations/default`;
const NODE1_CONFIG = `${RES}bgpconfigurations/node.kube-node-1`;
const PEER = `${RES}bgppeers/bgppeer-1`;
const POOL = `${RES}ippools/ippool-1`;
const AFFINITY = "/calico/ipam/v2/host/kube-master/ipv4/block/192.168.221.64-26";

const node1 = (spec: unknown, metadata?: Record<string, unknown>) => resource("Node", "kube-node-1", spec, metadata);
const peer = (spec: Record<string, unknown>) => resource("BGPPeer", "bgppeer-1", { peerIP: "", asNumber: 0, nodeSelector: "group=='one'", peerSelector: "group=='two'", ...spec });
const pool = (spec: Record<string, unknown>) => resource("IPPool", "ippool-1", { cidr: "192.168.0.0/16", vxlanMode: "Never", ipipMode: "Always", natOutgoing: true, blockSize: 26, nodeSelector: "all()", ...spec });

interface BadValue {
  what: string;
  key: string;
  value: string;
  /** The whole message; a RegExp where part of it is Node's own JSON.parse text. */
  message: string | RegExp;
}

const BAD_VALUES: BadValue[] = [
  // Node
  { what: "a value that is not JSON", key: NODE1, value: '{"kind":"Node",', message: new RegExp(`^${NODE1}: value is not JSON: .+; the resource is left out$`) },
  { what: "a value that is a JSON list", key: NODE1, value: "[]", message: `${NODE1}: value is not a JSON object; the resource is left out` },
  { what: "a kind that is not the key's", key: NODE1, value: resource("BGPPeer", "kube-node-1", {}), message: `${NODE1}: kind is "BGPPeer", but the key is a Node's; the resource is left out` },
  { what: "no kind", key: NODE1, value: JSON.stringify({ metadata: { name: "kube-node-1" }, spec: {} }), message: `${NODE1}: kind is missing; the resource is left out` },
  { what: "a metadata.name that is not the key's", key: NODE1, value: resource("Node", "kube-node-9", {}), message: `${NODE1}: metadata.name is "kube-node-9", but the key names "kube-node-1"; the resource is left out` },
  { what: "no metadata", key: NODE1, value: JSON.stringify({ kind: "Node", spec: {} }), message: `${NODE1}: metadata is missing; the resource is left out` },
  { what: "a spec that is not an object", key: NODE1, value: node1("bgp"), message: `${NODE1}: spec must be an object; the resource is left out` },
  { what: "spec.bgp.asNumber a bool", key: NODE1, value: node1({ bgp: { ipv4Address: "10.192.0.3/16", asNumber: true } }), message: `${NODE1}: spec.bgp.asNumber must be an AS number, got true; the resource is left out` },
  { what: "spec.bgp.asNumber above 32 bits", key: NODE1, value: node1({ bgp: { ipv4Address: "10.192.0.3/16", asNumber: 4294967296 } }), message: `${NODE1}: spec.bgp.asNumber must be an AS number, got 4294967296; the resource is left out` },
  { what: "a label value that is a number", key: NODE1, value: node1({ bgp: { ipv4Address: "10.192.0.3/16" } }, { labels: { group: 2 } }), message: `${NODE1}: metadata.labels.group must be a string, got 2; the resource is left out` },
  { what: "an ipv4Address that is not an address", key: NODE1, value: node1({ bgp: { ipv4Address: "10.192.0.300/16" } }), message: `${NODE1}: spec.bgp.ipv4Address must be an IPv4 address or CIDR, got "10.192.0.300/16"; the resource is left out` },
  { what: "an ipv4Address that is IPv6", key: NODE1, value: node1({ bgp: { ipv4Address: "fd5f::3/96" } }), message: `${NODE1}: spec.bgp.ipv4Address must be an IPv4 address or CIDR, got "fd5f::3/96"; the resource is left out` },
  { what: "an ipv6Address that is IPv4", key: NODE1, value: node1({ bgp: { ipv6Address: "10.192.0.3" } }), message: `${NODE1}: spec.bgp.ipv6Address must be an IPv6 address or CIDR, got "10.192.0.3"; the resource is left out` },
  { what: "a prefix length too long", key: NODE1, value: node1({ bgp: { ipv4Address: "10.192.0.3/33" } }), message: `${NODE1}: spec.bgp.ipv4Address must be an IPv4 address or CIDR, got "10.192.0.3/33"; the resource is left out` },
  { what: "a routeReflectorClusterID that is a number", key: NODE1, value: node1({ bgp: { routeReflectorClusterID: 1 } }), message: `${NODE1}: spec.bgp.routeReflectorClusterID must be a string, got 1; the resource is left out` },
  // BGPConfiguration default and node.<name>
  { what: "listenPort out of range", key: DEFAULT_CONFIG, value: resource("BGPConfiguration", "default", { listenPort: 70000 }), message: `${DEFAULT_CONFIG}: spec.listenPort must be a whole number from 0 to 65535, got 70000; the resource is left out` },
  { what: "nodeToNodeMeshEnabled a string", key: DEFAULT_CONFIG, value: resource("BGPConfiguration", "default", { nodeToNodeMeshEnabled: "false" }), message: `${DEFAULT_CONFIG}: spec.nodeToNodeMeshEnabled must be true or false, got "false"; the resource is left out` },
  { what: "a serviceClusterIPs cidr that is not one", key: DEFAULT_CONFIG, value: resource("BGPConfiguration", "default", { serviceClusterIPs: [{ cidr: "10.101.0.0/33" }] }), message: `${DEFAULT_CONFIG}: spec.serviceClusterIPs[0].cidr must be a CIDR, got "10.101.0.0/33"; the resource is left out` },
  { what: "serviceExternalIPs not a list", key: DEFAULT_CONFIG, value: resource("BGPConfiguration", "default", { serviceExternalIPs: { cidr: "172.16.0.0/16" } }), message: `${DEFAULT_CONFIG}: spec.serviceExternalIPs must be a list; the resource is left out` },
  { what: "a prefix advertisement without cidr", key: DEFAULT_CONFIG, value: resource("BGPConfiguration", "default", { prefixAdvertisements: [{ communities: ["1:2"] }] }), message: `${DEFAULT_CONFIG}: spec.prefixAdvertisements[0].cidr is missing; the resource is left out` },
  { what: "communities not strings", key: DEFAULT_CONFIG, value: resource("BGPConfiguration", "default", { prefixAdvertisements: [{ cidr: "10.0.0.0/8", communities: [1] }] }), message: `${DEFAULT_CONFIG}: spec.prefixAdvertisements[0].communities must be a list of strings; the resource is left out` },
  { what: "a per-node listenPort as a string", key: NODE1_CONFIG, value: resource("BGPConfiguration", "node.kube-node-1", { listenPort: "500" }), message: `${NODE1_CONFIG}: spec.listenPort must be a whole number from 0 to 65535, got "500"; the resource is left out` },
  // BGPPeer
  { what: "a peerIP with a port that is not a number, and no peerSelector", key: PEER, value: peer({ peerIP: "10.192.0.3:bgp", peerSelector: undefined }), message: `${PEER}: spec.peerIP must be an IP address with an optional port (a.b.c.d, a.b.c.d:port, v6 or [v6]:port) when there is no peerSelector, got "10.192.0.3:bgp"; the resource is left out` },
  { what: "a port above 65535", key: PEER, value: peer({ peerIP: "10.192.0.3:65536", peerSelector: undefined }), message: `${PEER}: spec.peerIP must be an IP address with an optional port (a.b.c.d, a.b.c.d:port, v6 or [v6]:port) when there is no peerSelector, got "10.192.0.3:65536"; the resource is left out` },
  { what: "neither peerIP nor peerSelector", key: PEER, value: peer({ peerSelector: undefined }), message: `${PEER}: spec.peerIP must be an IP address with an optional port (a.b.c.d, a.b.c.d:port, v6 or [v6]:port) when there is no peerSelector, got ""; the resource is left out` },
  { what: "an IPv6 peerIP in brackets without a port", key: PEER, value: peer({ peerIP: "[fd5f::3]", peerSelector: undefined }), message: `${PEER}: spec.peerIP must be an IP address with an optional port (a.b.c.d, a.b.c.d:port, v6 or [v6]:port) when there is no peerSelector, got "[fd5f::3]"; the resource is left out` },
  { what: "a peerSelector that does not parse", key: PEER, value: peer({ peerSelector: "group=='two" }), message: `${PEER}: spec.peerSelector is not a valid selector: selector "group=='two" : unterminated string, expected a closing ' at 7; the resource is left out` },
  { what: "a nodeSelector that does not parse", key: PEER, value: peer({ nodeSelector: "group in {'one'" }), message: `${PEER}: spec.nodeSelector is not a valid selector: selector "group in {'one'" : expected , or } at 15; the resource is left out` },
  { what: "an asNumber that is not one", key: PEER, value: peer({ asNumber: "AS1" }), message: `${PEER}: spec.asNumber must be an AS number, got "AS1"; the resource is left out` },
  { what: "keepOriginalNextHop a string", key: PEER, value: peer({ keepOriginalNextHop: "yes" }), message: `${PEER}: spec.keepOriginalNextHop must be true or false, got "yes"; the resource is left out` },
  { what: "a secretKeyRef without key", key: PEER, value: peer({ password: { secretKeyRef: { name: "s" } } }), message: `${PEER}: spec.password.secretKeyRef.key is missing; the resource is left out` },
  // IPPool
  { what: "a pool cidr that is not one", key: POOL, value: pool({ cidr: "bogus" }), message: `${POOL}: spec.cidr must be a CIDR, got "bogus"; the resource is left out` },
  { what: "a pool cidr without prefix length", key: POOL, value: pool({ cidr: "192.168.0.0" }), message: `${POOL}: spec.cidr must be a CIDR, got "192.168.0.0"; the resource is left out` },
  { what: "an ipipMode Calico does not have", key: POOL, value: pool({ ipipMode: "Sometimes" }), message: `${POOL}: spec.ipipMode must be Never, Always or CrossSubnet, got "Sometimes"; the resource is left out` },
  { what: "natOutgoing a string", key: POOL, value: pool({ natOutgoing: "true" }), message: `${POOL}: spec.natOutgoing must be true or false, got "true"; the resource is left out` },
  // Keys the derivation cannot place
  { what: "a kind Calico v3.16 does not have", key: `${RES}widgets/x`, value: "{}", message: `${RES}widgets/x: unknown kind "widgets" under ${RES} (Calico v3.16 has no such resource); ignored` },
  { what: "a namespaced-looking key under a cluster-scoped kind", key: `${RES}bgppeers/default/bgppeer-2`, value: peer({}), message: `${RES}bgppeers/default/bgppeer-2: not a BGPPeer key: a cluster-scoped resource has one name after ${RES}bgppeers/; ignored` },
  { what: "a cluster-scoped key with no name", key: `${RES}nodes/`, value: node1({}), message: `${RES}nodes/: not a Node key: a cluster-scoped resource has one name after ${RES}nodes/; ignored` },
  {
    what: 'a BGPConfiguration named neither "default" nor "node.<name>"',
    key: `${RES}bgpconfigurations/kube-node-1`,
    value: resource("BGPConfiguration", "kube-node-1", { listenPort: 600 }),
    message: `${RES}bgpconfigurations/kube-node-1: a BGPConfiguration is named "default" or "node.<node name>", not "kube-node-1"; ignored`,
  },
  // This node's block affinities
  { what: "an affinity that is not JSON", key: AFFINITY, value: "confirmed", message: new RegExp(`^${AFFINITY}: block affinity: value is not JSON: .*; the affinity is left out$`) },
  { what: "an affinity that is a JSON list", key: AFFINITY, value: "[]", message: `${AFFINITY}: block affinity: value is not a JSON object; the affinity is left out` },
  { what: "an affinity that is JSON null", key: AFFINITY, value: "null", message: `${AFFINITY}: block affinity: value is not a JSON object; the affinity is left out` },
  { what: "an affinity state that is a number", key: AFFINITY, value: '{"state":1}', message: `${AFFINITY}: block affinity: state must be a string; the affinity is left out` },
  { what: "an affinity deleted that is a string", key: AFFINITY, value: '{"state":"confirmed","deleted":"no"}', message: `${AFFINITY}: block affinity: deleted must be true or false; the affinity is left out` },
];

describe("every error a user can put in the datastore", () => {
  const base = derive(selectors.etcd);

  it("the base case derives Calico's own v1 view, with no problem", () => {
    expect(Object.fromEntries(base.view)).toEqual(selectors.keys);
    expect(base.problems).toEqual([]);
  });

  for (const bad of BAD_VALUES) {
    it(`${bad.what}: the problem names the key, that resource is left out, the rest is derived`, () => {
      let result: ReturnType<typeof derive> | undefined;
      expect(() => (result = derive({ ...selectors.etcd, [bad.key]: bad.value }))).not.toThrow();
      const { view, problems } = result as ReturnType<typeof derive>;
      expect(problems).toHaveLength(1);
      const [problem] = problems as [DerivationProblem];
      expect(problem.key).toBe(bad.key);
      expect(problem.severity).toBe("error");
      if (typeof bad.message === "string") expect(problem.message).toBe(bad.message);
      else expect(problem.message).toMatch(bad.message);
      // Exactly as if the key were absent: nothing half-derived from the bad value.
      expect(Object.fromEntries(view)).toEqual(Object.fromEntries(derive(without(selectors.etcd, bad.key)).view));
      // Other resources are untouched.
      expect(view.get(`${HOST}/kube-node-2/ip_addr_v4`)).toBe("10.192.0.4");
      expect(view.get(`${HOST}/kube-master/network_v6`)).toBe("fd5f::/96");
      expect(view.get("/calico/ipam/v2/host/kube-master/ipv4/block/192.168.221.0-26")).toBe('{"state":"pending","deleted":false}');
    });
  }

  it("a selector that does not parse: the message carries the selector parser's own error", () => {
    for (const selector of ["group=='two", "has(", "group in {'a'", "&& x"]) {
      let selectorError = "";
      try {
        parseSelector(selector);
      } catch (err) {
        selectorError = (err as Error).message;
      }
      expect(selectorError).toContain(JSON.stringify(selector));
      const { problems } = derive({ ...selectors.etcd, [PEER]: peer({ nodeSelector: selector }) });
      expect(problems.map((p) => p.message)).toEqual([`${PEER}: spec.nodeSelector is not a valid selector: ${selectorError}; the resource is left out`]);
    }
  });

  it("a bad Node value leaves out its keys and the peerings that name it, nothing else", () => {
    const { view } = derive({ ...selectors.etcd, [NODE1]: "{" });
    const gone = Object.keys(selectors.keys).filter((k) => !view.has(k));
    expect(gone.sort()).toEqual([
      `${HOST}/kube-master/peer_v4/10.192.0.3-500`,
      `${HOST}/kube-master/peer_v6/fd5f::3-500`,
      `${HOST}/kube-node-1/ip_addr_v4`,
      `${HOST}/kube-node-1/ip_addr_v6`,
      `${HOST}/kube-node-1/network_v4`,
      `${HOST}/kube-node-1/network_v6`,
      // kube-node-1 no longer matches group=='two', so nothing peers back from it.
      `${HOST}/kube-node-1/peer_v4/10.192.0.2`,
      `${HOST}/kube-node-1/peer_v6/fd5f::2`,
      `${HOST}/kube-node-1/rr_cluster_id`,
    ]);
    // Its per-node BGPConfiguration is a separate resource and stays.
    expect(view.get(`${HOST}/kube-node-1/listen_port`)).toBe("500");
    expect([...view.keys()].filter((k) => !Object.hasOwn(selectors.keys, k))).toEqual([]);
  });

  it("a BGPConfiguration default left out falls back to confd's defaults", () => {
    const { view } = derive({ ...selectors.etcd, [DEFAULT_CONFIG]: resource("BGPConfiguration", "default", { asNumber: [] }) });
    expect(view.get(`${GLOBAL}/node_mesh`)).toBe('{"enabled": true}');
    expect(view.get(`${GLOBAL}/as_num`)).toBe("64512");
    expect(view.get(`${GLOBAL}/loglevel`)).toBe("info");
  });

  it("another node's block affinities are not read, so a bad one there is no problem", () => {
    const key = "/calico/ipam/v2/host/kube-node-1/ipv4/block/10.9.0.0-26";
    const { view, problems } = derive({ ...selectors.etcd, [key]: "garbage" });
    expect(problems).toEqual([]);
    expect(view).toEqual(base.view);
  });

  it("the kinds Calico stores but BGP does not read, and keys outside Calico's resources, are silently ignored", () => {
    const { view, problems } = derive({
      ...selectors.etcd,
      [`${RES}felixconfigurations/default`]: "not even JSON",
      [`${RES}networkpolicies/default/allow`]: "{}",
      "/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26": "{}",
      "/calico/ipam/v2/host/kube-master/ipv4/something-else": "{}",
    });
    expect(problems).toEqual([]);
    expect(view).toEqual(base.view);
  });

  it("every bad value at once: one problem each, and the good resources still derived", () => {
    // Most under new names, so that none replaces another (a renamed one may fail on its name
    // first); BGPConfigurations and the affinity keep theirs, so the last bad value of each is read.
    const renamed = BAD_VALUES.map((bad, i): [string, string] => [bad.key.startsWith(RES) && !bad.key.includes("bgpconfigurations/") ? `${bad.key}-${i}` : bad.key, bad.value]);
    const etcd: Record<string, string> = { ...selectors.etcd, ...Object.fromEntries(renamed) };
    const badKeys = [...new Set(renamed.map(([key]) => key))];
    let result: ReturnType<typeof derive> | undefined;
    expect(() => (result = derive(etcd))).not.toThrow();
    const { view, problems } = result as ReturnType<typeof derive>;
    expect(problems.map((p) => p.key).sort()).toEqual(badKeys.sort());
    expect(problems.every((p) => p.severity === "error" && p.key !== undefined && p.message.startsWith(`${p.key}: `))).toBe(true);
    // The three nodes' keys, untouched.
    for (const [key, value] of Object.entries(selectors.keys)) if (key.includes("/ip_addr_") || key.includes("/network_")) expect(view.get(key), key).toBe(value);
  });
});

describe("Secrets for BGP passwords", () => {
  // password/step1: three peers reference Secrets that do not exist (yet); step2 has one of them.
  const step1 = readDatastoreCase("password/step1");
  const step2 = readDatastoreCase("password/step2");

  it("a missing Secret is a warning naming the peer and the Secret; the peerings are there, with password null", () => {
    const { view, problems } = deriveCase(step1);
    expect(problems.map((p) => [p.severity, p.key, p.message]).sort()).toEqual([
      ["warning", undefined, "BGPPeer bgppeer-1: Secret kube-system/my-secrets-1 does not exist: its peerings have no password"],
      ["warning", undefined, "BGPPeer bgppeer-2: Secret kube-system/my-secrets-1 does not exist: its peerings have no password"],
      ["warning", undefined, "BGPPeer bgppeer-3: Secret kube-system/my-secrets-2 does not exist: its peerings have no password"],
    ]);
    expect(view.get(`${HOST}/node1/peer_v4/10.24.0.2`)).toBe('{"ip":"10.24.0.2","as_num":"64512","rr_cluster_id":"","password":null,"port":0,"keep_next_hop":false}');
    expect(Object.fromEntries(view)).toEqual(step1.keys);
  });

  it("a Secret without the key is a warning naming the key; a Secret with it gives the password", () => {
    const { view, problems } = deriveCase(step2);
    expect(problems.map((p) => p.message).sort()).toEqual([
      'BGPPeer bgppeer-1: Secret kube-system/my-secrets-1 has no key "a": its peerings have no password',
      "BGPPeer bgppeer-3: Secret kube-system/my-secrets-2 does not exist: its peerings have no password",
    ]);
    expect(view.get(`${HOST}/node1/peer_v4/10.24.0.3`)).toBe('{"ip":"10.24.0.3","as_num":"64512","rr_cluster_id":"","password":"password-b","port":0,"keep_next_hop":false}');
    expect(Object.fromEntries(view)).toEqual(step2.keys);
  });

  it("Secrets are read from one namespace only: kube-system, or $NAMESPACE", () => {
    const moved = { ...step2.kubernetes, secrets: step2.kubernetes.secrets.map((s) => ({ ...s, namespace: "calico" })) };
    expect(deriveCase({ ...step2, kubernetes: moved }).view.get(`${HOST}/node1/peer_v4/10.24.0.3`)).toContain('"password":null');
    const d = new CalicoDerivation({ nodeName: "node1", nodeRef: "node1", secretsNamespace: "calico" });
    d.setKubernetes(moved);
    d.reset(Object.entries(step2.etcd).map(([key, value]) => ({ key, value })));
    expect(d.entries().get(`${HOST}/node1/peer_v4/10.24.0.3`)).toContain('"password":"password-b"');
  });

  it("a Secret arriving changes exactly the peerings that use it, and clears its warning", () => {
    const d = derivationOf(step1.etcd, "node1", step1.kubernetes);
    const changes = d.setKubernetes(step2.kubernetes);
    const expected = Object.entries(step2.keys)
      .filter(([k, v]) => step1.keys[k] !== v)
      .map(([key, value]): DerivedChange => ({ type: "put", key, value }));
    expect(expected).toHaveLength(6);
    expect(sortChanges(changes)).toEqual(sortChanges(expected));
    expect(d.problems().map((p) => p.message).sort()).toEqual([
      'BGPPeer bgppeer-1: Secret kube-system/my-secrets-1 has no key "a": its peerings have no password',
      "BGPPeer bgppeer-3: Secret kube-system/my-secrets-2 does not exist: its peerings have no password",
    ]);
  });
});

describe("a bad update to a good resource, and its repair", () => {
  const NODE2 = `${RES}nodes/kube-node-2`;
  const node2Keys = Object.keys(selectors.keys).filter((k) => k.startsWith(`${HOST}/kube-node-2/`) || k.endsWith("/peer_v4/10.192.0.4") || k.endsWith("/peer_v6/fd5f::4"));

  it("removes exactly that resource's keys (and the peerings naming it); the good value restores them; deleting the key clears the problem", () => {
    const problems: DerivationProblem[] = [];
    const d = new CalicoDerivation({ nodeName: SELECTORS_NODE, nodeRef: SELECTORS_NODE, secretsNamespace: "kube-system", onProblem: (p) => problems.push(p) });
    d.reset(Object.entries(selectors.etcd).map(([key, value]) => ({ key, value })));
    expect(node2Keys.sort()).toEqual([
      `${HOST}/kube-master/peer_v4/10.192.0.4`,
      `${HOST}/kube-master/peer_v6/fd5f::4`,
      `${HOST}/kube-node-2/ip_addr_v4`,
      `${HOST}/kube-node-2/ip_addr_v6`,
      `${HOST}/kube-node-2/network_v4`,
      `${HOST}/kube-node-2/network_v6`,
      `${HOST}/kube-node-2/peer_v4/10.192.0.2`,
      `${HOST}/kube-node-2/peer_v6/fd5f::2`,
      `${HOST}/kube-node-2/rr_cluster_id`,
    ]);

    const bad = resource("Node", "kube-node-2", { bgp: { ipv4Address: "10.192.0.4/16", asNumber: "sixty-four" } }, { labels: { group: "two" } });
    const broken = d.apply([{ type: "put", key: NODE2, value: bad, revision: 2 }]);
    expect(sortChanges(broken)).toEqual(node2Keys.map((key): DerivedChange => ({ type: "delete", key })));
    const message = `${NODE2}: spec.bgp.asNumber must be an AS number, got "sixty-four"; the resource is left out`;
    expect(d.problems()).toEqual([{ key: NODE2, message, severity: "error" }]);
    expect(problems).toEqual([{ key: NODE2, message, severity: "error" }]);

    const repaired = d.apply([{ type: "put", key: NODE2, value: selectors.etcd[NODE2] as string, revision: 3 }]);
    expect(sortChanges(repaired)).toEqual(node2Keys.map((key): DerivedChange => ({ type: "put", key, value: selectors.keys[key] as string })));
    expect(d.problems()).toEqual([]);
    expect(Object.fromEntries(d.entries())).toEqual(selectors.keys);

    d.apply([{ type: "put", key: NODE2, value: bad, revision: 4 }]);
    expect(d.problems()).toHaveLength(1);
    // The resource is already out of the view: deleting its key changes nothing but the problem.
    expect(d.apply([{ type: "delete", key: NODE2, revision: 5 }])).toEqual([]);
    expect(d.problems()).toEqual([]);
  });

  it("a bad key under an unknown kind: its problem goes with the key", () => {
    const d = derivationOf(selectors.etcd, SELECTORS_NODE);
    const key = `${RES}widgets/x`;
    expect(d.apply([{ type: "put", key, value: "{}", revision: 2 }])).toEqual([]);
    expect(d.problems().map((p) => p.key)).toEqual([key]);
    expect(d.apply([{ type: "delete", key, revision: 3 }])).toEqual([]);
    expect(d.problems()).toEqual([]);
  });

  it("a bad block affinity of this node: left out, back when repaired, problem cleared", () => {
    const d = derivationOf(selectors.etcd, SELECTORS_NODE);
    expect(d.apply([{ type: "put", key: AFFINITY, value: '{"state":true}', revision: 2 }])).toEqual([{ type: "delete", key: AFFINITY }]);
    expect(d.problems()).toEqual([{ key: AFFINITY, message: `${AFFINITY}: block affinity: state must be a string; the affinity is left out`, severity: "error" }]);
    // An empty value is read as {} (libcalico-go accepts it).
    expect(d.apply([{ type: "put", key: AFFINITY, value: "", revision: 3 }])).toEqual([{ type: "put", key: AFFINITY, value: '{"state":"","deleted":false}' }]);
    expect(d.problems()).toEqual([]);
    expect(d.apply([{ type: "put", key: AFFINITY, value: '{"state":"pendingDeletion","deleted":true}', revision: 4 }])).toEqual([
      { type: "put", key: AFFINITY, value: '{"state":"pendingDeletion","deleted":true}' },
    ]);
  });
});

describe("confd's defaults", () => {
  const ipip = readDatastoreCase("mesh/ipip-always");
  const NODE = "kube-master";

  it("deleting BGPConfiguration default falls back to AS 64512, the mesh on (written with a space) and log level info", () => {
    const d = derivationOf(ipip.etcd, NODE);
    d.apply([{ type: "put", key: DEFAULT_CONFIG, value: resource("BGPConfiguration", "default", { logSeverityScreen: "Debug", nodeToNodeMeshEnabled: false, asNumber: 65000, listenPort: 1790 }), revision: 2 }]);
    expect(d.entries().get(`${GLOBAL}/node_mesh`)).toBe('{"enabled":false}');
    const changes = d.apply([{ type: "delete", key: DEFAULT_CONFIG, revision: 3 }]);
    expect(sortChanges(changes)).toEqual([
      { type: "put", key: `${GLOBAL}/as_num`, value: "64512" },
      { type: "delete", key: `${GLOBAL}/listen_port` },
      { type: "put", key: `${GLOBAL}/loglevel`, value: "info" },
      { type: "put", key: `${GLOBAL}/node_mesh`, value: '{"enabled": true}' },
    ]);
  });

  it("toggling the mesh changes only node_mesh: explicit values are compact JSON, absent is confd's default", () => {
    const d = derivationOf(ipip.etcd, NODE);
    const put = (spec: object, revision: number) => d.apply([{ type: "put", key: DEFAULT_CONFIG, value: resource("BGPConfiguration", "default", spec), revision }]);
    expect(put({ logSeverityScreen: "Info", nodeToNodeMeshEnabled: false }, 2)).toEqual([{ type: "put", key: `${GLOBAL}/node_mesh`, value: '{"enabled":false}' }]);
    expect(put({ logSeverityScreen: "Info", nodeToNodeMeshEnabled: true }, 3)).toEqual([{ type: "put", key: `${GLOBAL}/node_mesh`, value: '{"enabled":true}' }]);
    expect(put({ logSeverityScreen: "Info" }, 4)).toEqual([{ type: "put", key: `${GLOBAL}/node_mesh`, value: '{"enabled": true}' }]);
    expect(put({ logSeverityScreen: "Info" }, 5)).toEqual([]);
  });

  it("log levels: debug and info in any case, anything else none; empty is the default", () => {
    const d = derivationOf(ipip.etcd, NODE);
    const level = (severity: string, revision: number) => {
      d.apply([{ type: "put", key: DEFAULT_CONFIG, value: resource("BGPConfiguration", "default", { logSeverityScreen: severity }), revision }]);
      return d.entries().get(`${GLOBAL}/loglevel`);
    };
    expect([level("DEBUG", 2), level("Info", 3), level("Warning", 4), level("Fatal", 5), level("", 6)]).toEqual(["debug", "info", "none", "none", "info"]);
  });

  it("an empty datastore still has the three global defaults, and nothing else", () => {
    const d = derivationOf({}, NODE);
    expect(Object.fromEntries(d.entries())).toEqual({ [`${GLOBAL}/as_num`]: "64512", [`${GLOBAL}/node_mesh`]: '{"enabled": true}', [`${GLOBAL}/loglevel`]: "info" });
  });
});

describe("BGPConfiguration node.<name>", () => {
  it("writes that node's listen port, log level and prefix advertisements; community names resolve through its own communities only", () => {
    const etcd = {
      ...selectors.etcd,
      [DEFAULT_CONFIG]: resource("BGPConfiguration", "default", { nodeToNodeMeshEnabled: false, communities: [{ name: "std", value: "100:6532" }] }),
      [NODE1_CONFIG]: resource("BGPConfiguration", "node.kube-node-1", {
        logSeverityScreen: "Debug",
        communities: [{ name: "mine", value: "65000:1" }],
        prefixAdvertisements: [{ cidr: "10.0.0.0/8", communities: ["mine", "std", "mine", "1:2:3", "65000:1"] }],
        listenPort: 500,
      }),
    };
    const { view, problems } = derive(etcd);
    expect(problems).toEqual([]);
    const nodeKeys = Object.fromEntries([...view].filter(([k]) => k.startsWith(`${HOST}/kube-node-1/`) && !k.includes("/peer_v") && !k.includes("_addr_") && !k.includes("/network_") && !k.endsWith("rr_cluster_id")));
    expect(nodeKeys).toEqual({
      [`${HOST}/kube-node-1/listen_port`]: "500",
      [`${HOST}/kube-node-1/loglevel`]: "debug",
      // "std" is the default resource's name, not this one's: dropped; duplicates go, first appearance stays.
      [`${HOST}/kube-node-1/prefix_advertisements/ip_v4`]: '[{"cidr":"10.0.0.0/8","communities":["65000:1","1:2:3"]}]',
      // Both families as soon as the field is set; the empty one is JSON null.
      [`${HOST}/kube-node-1/prefix_advertisements/ip_v6`]: "null",
    });
    // The default sets no prefixAdvertisements, so there are no global ones.
    expect([...view.keys()].filter((k) => k.startsWith(`${GLOBAL}/prefix_advertisements`))).toEqual([]);
  });

  it("a node's listen port moves the port of the peerings towards it, and goes when the resource does", () => {
    const d = derivationOf(selectors.etcd, SELECTORS_NODE);
    const changes = d.apply([{ type: "delete", key: NODE1_CONFIG, revision: 2 }]);
    expect(sortChanges(changes)).toEqual([
      { type: "put", key: `${HOST}/kube-master/peer_v4/10.192.0.3`, value: '{"ip":"10.192.0.3","as_num":"64512","rr_cluster_id":"","password":null,"port":0,"keep_next_hop":false}' },
      { type: "delete", key: `${HOST}/kube-master/peer_v4/10.192.0.3-500` },
      { type: "put", key: `${HOST}/kube-master/peer_v6/fd5f::3`, value: '{"ip":"fd5f::3","as_num":"64512","rr_cluster_id":"","password":null,"port":0,"keep_next_hop":false}' },
      { type: "delete", key: `${HOST}/kube-master/peer_v6/fd5f::3-500` },
      { type: "delete", key: `${HOST}/kube-node-1/listen_port` },
    ]);
  });
});

describe("an update changes only the v1 keys it affects", () => {
  it("a Node's address change, with no BGPPeers: exactly that node's ip_addr_v4 and network_v4", () => {
    const ipip = readDatastoreCase("mesh/ipip-always");
    const d = derivationOf(ipip.etcd, "kube-master");
    const key = `${RES}nodes/kube-node-1`;
    const changes = d.apply([{ type: "put", key, value: (ipip.etcd[key] as string).replace('"10.192.0.3/16"', '"10.193.0.3/24"'), revision: 2 }]);
    expect(sortChanges(changes)).toEqual([
      { type: "put", key: `${HOST}/kube-node-1/ip_addr_v4`, value: "10.193.0.3" },
      { type: "put", key: `${HOST}/kube-node-1/network_v4`, value: "10.193.0.0/24" },
    ]);
  });

  it("with BGPPeers: the node's keys and the peerings that name it", () => {
    // explicit_peering/global: global peers to 10.192.0.3 (kube-node-1) and 10.192.0.4, AS 64567, listen port 150.
    const global = readDatastoreCase("explicit_peering/global");
    const d = derivationOf(global.etcd, "kube-master");
    const key = `${RES}nodes/kube-node-1`;
    const changes = d.apply([{ type: "put", key, value: (global.etcd[key] as string).replace('"10.192.0.3/16"', '"10.192.0.30/16"'), revision: 2 }]);
    expect(sortChanges(changes)).toEqual([
      // No Calico node is at 10.192.0.3 any more: the peering takes no listen port...
      { type: "put", key: `${GLOBAL}/peer_v4/10.192.0.3`, value: '{"ip":"10.192.0.3","as_num":"64567","rr_cluster_id":"","password":null,"port":0,"keep_next_hop":false}' },
      { type: "delete", key: `${GLOBAL}/peer_v4/10.192.0.3-150` },
      { type: "put", key: `${HOST}/kube-node-1/ip_addr_v4`, value: "10.192.0.30" },
      // ...and kube-node-1 is no longer that peer, so it does not peer back.
      { type: "delete", key: `${HOST}/kube-node-1/peer_v4/10.192.0.2-150` },
      // kube-node-2 (the peer at 10.192.0.4) peers back with every node; towards 10.192.0.3 the
      // global peering stood in for it, towards 10.192.0.30 nothing does.
      { type: "put", key: `${HOST}/kube-node-2/peer_v4/10.192.0.30-150`, value: '{"ip":"10.192.0.30","as_num":"64567","rr_cluster_id":"","password":null,"port":150,"keep_next_hop":false}' },
    ]);
  });

  it("a change that does not reach the view (another node's affinity, an ignored kind) changes nothing", () => {
    const d = derivationOf(selectors.etcd, SELECTORS_NODE);
    expect(
      d.apply([
        { type: "put", key: "/calico/ipam/v2/host/kube-node-1/ipv4/block/10.9.0.0-26", value: "{}", revision: 2 },
        { type: "put", key: `${RES}felixconfigurations/default`, value: "{}", revision: 2 },
        { type: "put", key: `${RES}nodes/kube-node-1`, value: selectors.etcd[NODE1] as string, revision: 2 },
      ]),
    ).toEqual([]);
  });

  it("a batch that puts and deletes the same key reports only the net change", () => {
    const d = derivationOf(selectors.etcd, SELECTORS_NODE);
    const key = `${RES}ippools/ippool-2`;
    const value = resource("IPPool", "ippool-2", { cidr: "fd00:1::/64", vxlanMode: "Never", ipipMode: "Never", blockSize: 122, nodeSelector: "all()" });
    expect(
      d.apply([
        { type: "put", key, value, revision: 2 },
        { type: "delete", key, revision: 2 },
      ]),
    ).toEqual([]);
    expect(d.apply([{ type: "put", key, value, revision: 3 }])).toEqual([
      { type: "put", key: "/calico/v1/ipam/v6/pool/fd00:1::-64", value: '{"cidr":"fd00:1::/64","ipip":"","ipip_mode":"","vxlan_mode":"","masquerade":false,"ipam":true,"disabled":false}' },
    ]);
  });
});

describe("parseKubernetesObjects", () => {
  const fixture = JSON.parse(readFileSync(path.join(datastoreRoot, "mesh/static-routes/kubernetes.json"), "utf8")) as { services: object[]; endpoints: object[] };

  it("reads the fixtures' shape", () => {
    const objects = parseKubernetesObjects(fixture);
    expect(objects.secrets).toEqual([]);
    expect(objects.services.map((s) => `${s.namespace}/${s.name}`)).toEqual(["default/kubernetes", "default/service-1", "default/service-2", "default/service-v6-1", "default/service-v6-2"]);
    expect(objects.services[1]).toEqual({ namespace: "default", name: "service-1", type: "LoadBalancer", clusterIP: "10.101.0.101", externalTrafficPolicy: "Local", externalIPs: [] });
    // The apiserver's own Service has no policy.
    expect(objects.services[0]?.externalTrafficPolicy).toBe("");
    expect(objects.endpoints).toHaveLength(4);
    expect(objects.endpoints[0]?.addresses.length).toBeGreaterThan(0);
  });

  it("reads kubectl's list shape, a kind per item, and ignores the kinds it does not use", () => {
    const items = [
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "default" }, data: { a: "1" } },
      ...fixture.services,
      { apiVersion: "v1", kind: "Secret", metadata: { name: "bgp", namespace: "kube-system" }, type: "Opaque", data: { pw: "c2VjcmV0" } },
      ...fixture.endpoints,
      { apiVersion: "v1", kind: "Pod", metadata: { name: "p" } },
    ];
    const fromList = parseKubernetesObjects({ apiVersion: "v1", kind: "List", items });
    const fromFixture = parseKubernetesObjects(fixture);
    expect(fromList.services).toEqual(fromFixture.services);
    expect(fromList.endpoints).toEqual(fromFixture.endpoints);
    expect(fromList.secrets).toEqual([{ namespace: "kube-system", name: "bgp", data: { pw: "c2VjcmV0" } }]);
  });

  it("fills in what the API leaves out: namespace default, type ClusterIP, no addresses", () => {
    expect(
      parseKubernetesObjects({
        secrets: [{ metadata: { name: "s" } }],
        services: [{ metadata: { name: "svc" } }],
        endpoints: [{ metadata: { name: "svc" }, subsets: [{ addresses: [{ ip: "10.0.0.1" }] }] }, { metadata: { name: "e" } }],
      }),
    ).toEqual({
      secrets: [{ namespace: "default", name: "s", data: {} }],
      services: [{ namespace: "default", name: "svc", type: "ClusterIP", clusterIP: "", externalTrafficPolicy: "", externalIPs: [] }],
      endpoints: [
        { namespace: "default", name: "svc", addresses: [{ ip: "10.0.0.1", nodeName: "" }] },
        { namespace: "default", name: "e", addresses: [] },
      ],
    });
  });

  const BAD_DOCUMENTS: Array<[string, unknown, string]> = [
    ["a number", 1, "the document is not a JSON object"],
    ["a list", [], "the document is not a JSON object"],
    ["an object with none of the lists", { kind: "Secret" }, 'secrets (or services, endpoints, items) is missing: expected {"secrets": […], "services": […], "endpoints": […]} or kubectl\'s {"items": […]}'],
    ["items not a list", { items: {} }, "items must be a list"],
    ["an item that is not an object", { items: ["x"] }, "items[0] must be an object"],
    ["an item without kind", { items: [{ metadata: { name: "x" } }] }, "items[0].kind is missing"],
    ["an item without metadata", { items: [{ kind: "Secret" }] }, "items[0].metadata is missing"],
    ["secrets not a list", { secrets: {} }, "secrets must be a list"],
    ["a Secret without a name", { secrets: [{ metadata: { namespace: "kube-system" } }] }, "secrets[0].metadata.name is missing"],
    ["Secret data that is not strings", { secrets: [{ metadata: { name: "s" }, data: { a: 1 } }] }, "secrets[0].data.a must be a string, got 1"],
    ["a Service clusterIP that is not a string", { services: [{ metadata: { name: "s" }, spec: { clusterIP: 10 } }] }, "services[0].spec.clusterIP must be a string, got 10"],
    ["a Service clusterIP that is a list", { services: [{ metadata: { name: "s" }, spec: { clusterIP: ["10.0.0.1"] } }] }, 'services[0].spec.clusterIP must be a string, got ["10.0.0.1"]'],
    ["externalIPs not strings", { services: [{ metadata: { name: "s" }, spec: { externalIPs: "1.2.3.4" } }] }, "services[0].spec.externalIPs must be a list of strings"],
    ["an endpoint address without ip", { endpoints: [{ metadata: { name: "e" }, subsets: [{ addresses: [{ nodeName: "n" }] }] }] }, "endpoints[0].subsets[0].addresses[0].ip is missing"],
  ];
  for (const [what, doc, message] of BAD_DOCUMENTS) {
    it(`rejects ${what}: ${message}`, () => {
      expect(() => parseKubernetesObjects(doc)).toThrow(message);
      try {
        parseKubernetesObjects(doc);
      } catch (err) {
        expect((err as Error).message).toBe(message);
      }
    });
  }

  describe("readKubernetesFile", () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(path.join(tmpdir(), "perch-k8s-"));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("names the file in each of its errors", async () => {
      const file = path.join(dir, "kubernetes.json");
      const failure = async (): Promise<PerchError> => {
        try {
          await readKubernetesFile(file);
        } catch (err) {
          expect(err).toBeInstanceOf(PerchError);
          return err as PerchError;
        }
        throw new Error("readKubernetesFile accepted the file");
      };
      let err = await failure();
      expect(err.message).toMatch(/^cannot read the Kubernetes objects file: ENOENT/);
      expect(err.context.file).toBe(file);
      await writeFile(file, "{oops");
      err = await failure();
      expect(err.message).toMatch(/^Kubernetes objects file is not valid JSON: /);
      expect(err.context.file).toBe(file);
      await writeFile(file, JSON.stringify({ secrets: [{ metadata: {} }] }));
      err = await failure();
      expect(err.message).toBe("Kubernetes objects file: secrets[0].metadata.name is missing");
      expect(err.context.file).toBe(file);
      await writeFile(file, JSON.stringify({ secrets: [] }));
      expect(await readKubernetesFile(file)).toEqual({ secrets: [], services: [], endpoints: [] });
    });
  });
});

describe("CalicoV3Store over a file store", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "perch-calico-v3-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Wait for the signals to satisfy `done`, or fail after a while (chokidar and awaitWriteFinish take tens of ms). */
  async function until(signals: StreamSignal[], done: (s: StreamSignal[]) => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!done(signals)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; signals: ${JSON.stringify(signals)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const changeEvents = (signals: StreamSignal[]) => signals.flatMap((s) => (s.type === "changes" ? s.events : []));

  it("list() gives the derived v1 view, only under the requested prefixes, and never the file's own v1-looking keys", async () => {
    const c = readDatastoreCase("explicit_peering/global");
    const file = path.join(dir, "etcd.json");
    // A v1 key in the datastore file is not Calico's datastore: the view is derived, not copied.
    await writeFile(file, JSON.stringify({ ...c.etcd, [`${GLOBAL}/as_num`]: "1", [`${HOST}/ghost/ip_addr_v4`]: "10.0.0.1" }));
    const problems: DerivationProblem[] = [];
    const store = new CalicoV3Store(new FileStore(file), FILE_SOURCE_PREFIXES, { nodeName: "kube-master", env: {}, onProblem: (p) => problems.push(p) });
    try {
      const all = await store.list(["/calico/"]);
      expect(Object.fromEntries(all.kvs.map((kv) => [kv.key, kv.value]))).toEqual(c.keys);

      const hosts = await store.list([`${HOST}/`]);
      expect(hosts.kvs.length).toBeGreaterThan(0);
      expect(hosts.kvs.every((kv) => kv.key.startsWith(`${HOST}/`))).toBe(true);
      expect(Object.fromEntries(hosts.kvs.map((kv) => [kv.key, kv.value]))).toEqual(Object.fromEntries(Object.entries(c.keys).filter(([k]) => k.startsWith(`${HOST}/`))));

      const pools = await store.list(["/calico/v1/ipam/", "/calico/ipam/v2/host/kube-master/ipv4/block/192.168.221.64-26"]);
      expect(pools.kvs.map((kv) => kv.key).sort()).toEqual(["/calico/ipam/v2/host/kube-master/ipv4/block/192.168.221.64-26", "/calico/v1/ipam/v4/pool/192.168.0.0-16"]);
      expect(pools.revision).toBe(3);
      expect(problems).toEqual([]);
      expect(store.problems()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it("watch(): an edit of the datastore file becomes the v1 changes it causes, under the watched prefixes only", async () => {
    const c = readDatastoreCase("explicit_peering/global");
    const file = path.join(dir, "etcd.json");
    await copyFile(c.etcdFile, file);
    const store = new CalicoV3Store(new FileStore(file), FILE_SOURCE_PREFIXES, { nodeName: "kube-master", env: {}, onProblem: () => undefined });
    const { revision } = await store.list(["/calico/"]);
    const signals: StreamSignal[] = [];
    const stream = await store.watch([`${HOST}/`], revision, (s) => signals.push(s));
    try {
      await until(signals, (s) => s.some((x) => x.type === "connected"), "the watch to connect");
      const etcd = JSON.parse(await readFile(file, "utf8")) as Record<string, string>;
      const key = `${RES}nodes/kube-node-1`;
      etcd[key] = (etcd[key] as string).replace('"10.192.0.3/16"', '"10.192.0.30/16"');
      await writeFile(file, JSON.stringify(etcd));
      await until(signals, (s) => changeEvents(s).length > 0, "the change events");
      // The global peer's keys change too (see "with BGPPeers" above), but they are outside the watched prefix.
      expect([...changeEvents(signals)].sort((a, b) => (a.key < b.key ? -1 : 1))).toEqual([
        { type: "put", key: `${HOST}/kube-node-1/ip_addr_v4`, value: "10.192.0.30", revision: revision + 1 },
        { type: "delete", key: `${HOST}/kube-node-1/peer_v4/10.192.0.2-150`, revision: revision + 1 },
        { type: "put", key: `${HOST}/kube-node-2/peer_v4/10.192.0.30-150`, value: '{"ip":"10.192.0.30","as_num":"64567","rr_cluster_id":"","password":null,"port":150,"keep_next_hop":false}', revision: revision + 1 },
      ]);
    } finally {
      await stream.close();
      await store.close();
    }
  });

  it("watch(): a Secret added to the --calico-kubernetes file gives the peerings their password", async () => {
    const step1 = readDatastoreCase("password/step1");
    const step2 = readDatastoreCase("password/step2");
    const file = path.join(dir, "etcd.json");
    const kubernetesFile = path.join(dir, "kubernetes.json");
    await copyFile(step1.etcdFile, file);
    await copyFile(step1.kubernetesFile as string, kubernetesFile);
    const problems: DerivationProblem[] = [];
    const store = new CalicoV3Store(new FileStore(file), FILE_SOURCE_PREFIXES, { nodeName: "node1", kubernetesFile, env: {}, onProblem: (p) => problems.push(p) });
    const { revision, kvs } = await store.list(["/calico/"]);
    expect(Object.fromEntries(kvs.map((kv) => [kv.key, kv.value]))).toEqual(step1.keys);
    expect(store.problems()).toHaveLength(3);
    const signals: StreamSignal[] = [];
    const stream = await store.watch(["/calico/"], revision, (s) => signals.push(s));
    try {
      await until(signals, (s) => s.some((x) => x.type === "connected"), "the watch to connect");
      await copyFile(step2.kubernetesFile as string, kubernetesFile);
      await until(signals, (s) => changeEvents(s).length > 0, "the password changes");
      const expected = Object.entries(step2.keys)
        .filter(([k, v]) => step1.keys[k] !== v)
        .map(([key, value]) => ({ type: "put", key, value, revision }));
      expect(expected).toHaveLength(6);
      expect([...changeEvents(signals)].sort((a, b) => (a.key < b.key ? -1 : 1))).toEqual(expected.sort((a, b) => (a.key < b.key ? -1 : 1)));
      expect(store.problems().map((p) => p.message).sort()).toEqual([
        'BGPPeer bgppeer-1: Secret kube-system/my-secrets-1 has no key "a": its peerings have no password',
        "BGPPeer bgppeer-3: Secret kube-system/my-secrets-2 does not exist: its peerings have no password",
      ]);
    } finally {
      await stream.close();
      await store.close();
    }
  });

  it("watch(): a Kubernetes file that does not read is a problem naming the file, and the last good objects stay", async () => {
    const step2 = readDatastoreCase("password/step2");
    const file = path.join(dir, "etcd.json");
    const kubernetesFile = path.join(dir, "kubernetes.json");
    await copyFile(step2.etcdFile, file);
    await copyFile(step2.kubernetesFile as string, kubernetesFile);
    const problems: DerivationProblem[] = [];
    const store = new CalicoV3Store(new FileStore(file), FILE_SOURCE_PREFIXES, { nodeName: "node1", kubernetesFile, env: {}, onProblem: (p) => problems.push(p) });
    const { revision } = await store.list(["/calico/"]);
    const signals: StreamSignal[] = [];
    const stream = await store.watch(["/calico/"], revision, (s) => signals.push(s));
    try {
      await until(signals, (s) => s.some((x) => x.type === "connected"), "the watch to connect");
      await writeFile(kubernetesFile, '{"secrets": [');
      const unreadable = (p: DerivationProblem) => p.message.startsWith(`${kubernetesFile}: Kubernetes objects file is not valid JSON: `);
      const deadline = Date.now() + 10_000;
      while (!problems.some(unreadable) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const problem = problems.find(unreadable);
      expect(problem?.severity).toBe("error");
      expect(problem?.message).toMatch(/; the last good Kubernetes objects are kept$/);
      expect(changeEvents(signals)).toEqual([]);
      // The Secret was kept: a good file without it is what takes the password away.
      await writeFile(kubernetesFile, JSON.stringify({ secrets: [] }));
      await until(signals, (s) => changeEvents(s).length > 0, "the password to go");
      expect(changeEvents(signals).every((e) => e.type === "put" && e.value.includes('"password":null'))).toBe(true);
      expect(changeEvents(signals)).toHaveLength(6);
    } finally {
      await stream.close();
      await store.close();
    }
  });
});

describe("problems are reported once, while they stand", () => {
  it("a bad value is not reported again by a relist or by the same bad value put again; once fixed and broken again, it is", () => {
    const reported: string[] = [];
    const d = new CalicoDerivation({ nodeName: SELECTORS_NODE, nodeRef: SELECTORS_NODE, secretsNamespace: "kube-system", onProblem: (p) => reported.push(p.message) });
    const bad = { ...selectors.etcd, [NODE1]: "{", [`${RES}widgets/x`]: "{}" };
    const listing = () => Object.entries(bad).map(([key, value]) => ({ key, value }));
    d.reset(listing());
    expect(reported).toEqual([`${NODE1}: value is not JSON: Expected property name or '}' in JSON at position 1; the resource is left out`, `${RES}widgets/x: unknown kind "widgets" under ${RES} (Calico v3.16 has no such resource); ignored`]);
    d.reset(listing());
    d.apply([{ type: "put", key: NODE1, value: "{", revision: 2 }]);
    expect(reported).toHaveLength(2);
    d.apply([{ type: "put", key: NODE1, value: selectors.etcd[NODE1] as string, revision: 3 }]);
    d.apply([{ type: "put", key: NODE1, value: "{", revision: 4 }]);
    expect(reported).toHaveLength(3);
  });
});

describe("prefix advertisements", () => {
  it("an advertisement whose communities resolve to none has communities null, as Go marshals an empty appended slice", () => {
    const config = resource("BGPConfiguration", "default", { prefixAdvertisements: [{ cidr: "10.0.0.0/8", communities: ["no-such-name"] }, { cidr: "10.1.0.0/16" }] });
    const { view } = derive({ ...selectors.etcd, [DEFAULT_CONFIG]: config });
    expect(view.get(`${GLOBAL}/prefix_advertisements/ip_v4`)).toBe('[{"cidr":"10.0.0.0/8","communities":null},{"cidr":"10.1.0.0/16","communities":null}]');
    expect(view.get(`${GLOBAL}/prefix_advertisements/ip_v6`)).toBe("null");
  });
});
