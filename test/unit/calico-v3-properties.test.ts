// Property tests (fast-check) of the Calico v3 → v1 derivation (src/calico-v3/derivation.ts), over
// small random clusters shaped like the fixtures' etcd.json — Nodes, BGPConfigurations, BGPPeers of
// every shape, IPPools, block affinities, Kubernetes Secrets, Services and Endpoints, and values
// that are wrong in every way a user can make them wrong:
//
// - after any sequence of v3 puts and deletes (one per call or batched), Kubernetes object changes,
//   changes lost while a watch was cut, and relistings, the incrementally maintained view equals a
//   fresh derivation of the final state;
// - the changes each call returns are exactly the difference between the view before and after, so
//   a mirror that only ever sees the changes converges to the same view;
// - both report the same problems, and every standing problem was reported through onProblem;
// - a fresh derivation does not depend on the order of the listing, nor on whether the Kubernetes
//   objects arrive before or after it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CalicoDerivation, type DerivationProblem, type DerivedChange } from "../../src/calico-v3/derivation.js";
import type { EndpointsObject, KubernetesObjects, SecretObject, ServiceObject } from "../../src/calico-v3/kubernetes.js";
import type { ChangeEvent, KeyValue } from "../../src/store/types.js";
import { shuffled } from "../helpers/shuffled.js";

// ---------------------------------------------------------------------------------------------
// The cluster universe: keys, and for each key a few candidate values, valid and not.

const NODE_NAME = "n1";
const RES = "/calico/resources/v3/projectcalico.org/";
const NODE_NAMES = ["n1", "n2", "n3", "n4", "n5", "n6"];

/** A v3 resource as libcalico-go stores it: kind, apiVersion, metadata (name first), spec; Node adds status. */
function resource(kind: string, name: string, spec: unknown, labels?: Record<string, string | number>): string {
  const metadata: Record<string, unknown> = { name, uid: "a46cd234-9d7d-11eb-8034-02425f000001", creationTimestamp: "2021-04-15T00:00:52Z" };
  if (labels !== undefined && Object.keys(labels).length > 0) metadata.labels = Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
  return JSON.stringify(kind === "Node" ? { kind, apiVersion: "projectcalico.org/v3", metadata, spec, status: {} } : { kind, apiVersion: "projectcalico.org/v3", metadata, spec });
}

/** Drop the fields fc.record left undefined, so the JSON has them absent (as omitempty does). */
function defined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const opt = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined, freq: 2 });

/** Addresses are drawn from a few, so that peerIPs hit nodes and two nodes sometimes share one. */
const V4_ADDRESSES = ["10.0.0.1/24", "10.0.0.2", "10.0.0.3/16", "10.0.1.1/24", "10.0.0.1"];
const V6_ADDRESSES = ["fd00::1/64", "fd00::2", "fd00::3/120", "2001:db8::1/64"];
const AS_NUMBERS = [64512, 65001, 64567];

const labels = fc.record({ group: fc.constantFrom("a", "b"), rr: fc.constant("true"), zone: fc.constantFrom("x", "y") }, { requiredKeys: [] });

const nodeSpec = fc.oneof(
  { weight: 1, arbitrary: fc.constant({}) },
  {
    weight: 5,
    arbitrary: fc
      .record({
        asNumber: opt(fc.oneof(fc.constantFrom(...AS_NUMBERS), fc.constant("65001"), fc.constant("1.10"))),
        ipv4Address: opt(fc.constantFrom(...V4_ADDRESSES, "")),
        ipv6Address: opt(fc.constantFrom(...V6_ADDRESSES)),
        routeReflectorClusterID: opt(fc.constantFrom("10.0.0.1", "224.0.0.1")),
      })
      .map((bgp) => ({ bgp: defined(bgp) })),
  },
);

function nodeValue(name: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.tuple(labels, nodeSpec).map(([l, spec]) => resource("Node", name, spec, l)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "{not json",
        "[]",
        resource("BGPPeer", name, { peerIP: "10.0.0.9", asNumber: 0 }),
        resource("Node", `${name}-other`, { bgp: { ipv4Address: "10.0.0.5/24" } }),
        resource("Node", name, { bgp: { asNumber: true, ipv4Address: "10.0.0.5/24" } }),
        resource("Node", name, { bgp: { ipv4Address: "10.0.0.256/24" } }),
        resource("Node", name, { bgp: { ipv4Address: "fd00::9/64" } }),
        resource("Node", name, { bgp: { ipv6Address: "10.0.0.9" } }),
        resource("Node", name, { bgp: { ipv4Address: "10.0.0.5/24" } }, { group: 1 }),
        resource("Node", name, "spec"),
      ),
    },
  );
}

const communities = fc.constantFrom(
  [{ name: "std", value: "100:6532" }],
  [
    { name: "std", value: "100:6532" },
    { name: "large", value: "100:555:107" },
  ],
);
const prefixAdvertisements = fc.array(
  fc.record({
    cidr: fc.constantFrom("192.168.0.0/16", "10.244.0.0/16", "fd00:1::/64"),
    communities: fc.array(fc.constantFrom("std", "large", "5663:12", "unknown-name", "1:2:3"), { maxLength: 3 }),
  }),
  { maxLength: 3 },
);
const logSeverity = fc.constantFrom("Info", "Debug", "Warning", "Fatal", "");

const defaultConfigValue = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .record({
        logSeverityScreen: opt(logSeverity),
        nodeToNodeMeshEnabled: opt(fc.boolean()),
        asNumber: opt(fc.constantFrom(...AS_NUMBERS)),
        serviceExternalIPs: opt(fc.subarray([{ cidr: "172.16.0.0/16" }, { cidr: "fd00:ee::/112" }], { minLength: 1 })),
        // Often set: only then do Services give routes.
        serviceClusterIPs: fc.option(fc.subarray([{ cidr: "10.101.0.0/16" }, { cidr: "fd00:96::/112" }], { minLength: 1 }), { nil: undefined, freq: 4 }),
        communities: opt(communities),
        prefixAdvertisements: opt(prefixAdvertisements),
        listenPort: opt(fc.constantFrom(179, 150, 1790)),
      })
      .map((spec) => resource("BGPConfiguration", "default", defined(spec))),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "",
      resource("BGPConfiguration", "default", { listenPort: 70000 }),
      resource("BGPConfiguration", "default", { asNumber: "many" }),
      resource("BGPConfiguration", "default", { nodeToNodeMeshEnabled: "yes" }),
      resource("BGPConfiguration", "default", { serviceClusterIPs: [{ cidr: "bogus" }] }),
      resource("BGPConfiguration", "default", { prefixAdvertisements: [{ communities: ["std"] }] }),
      resource("Node", "default", {}),
    ),
  },
);

function nodeConfigValue(name: string): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .record({
          logSeverityScreen: opt(logSeverity),
          communities: opt(communities),
          prefixAdvertisements: opt(prefixAdvertisements),
          // Often set: peerings towards the node take it as their port.
          listenPort: fc.option(fc.constantFrom(179, 500, 1790), { nil: undefined, freq: 4 }),
        })
        .map((spec) => resource("BGPConfiguration", name, defined(spec))),
    },
    { weight: 1, arbitrary: fc.constantFrom(resource("BGPConfiguration", name, { listenPort: -1 }), resource("BGPConfiguration", name, { logSeverityScreen: 3 })) },
  );
}

const SELECTORS = [
  "all()",
  "has(rr)",
  "!has(rr)",
  "group == 'a'",
  'group == "b"',
  "group != 'a'",
  "group in {'a','b'}",
  "group not in {'b'}",
  "has(group) && !has(rr)",
  "group == 'a' || has(rr)",
  "( zone == 'x' ) && all()",
];
const BAD_SELECTORS = ["group ==", "has(", "&& rr", "group in {'a'"];
const PEER_IPS = ["10.0.0.1", "10.0.0.2:179", "10.0.0.2", "10.0.0.3:1790", "10.0.1.1:150", "10.9.9.9", "fd00::1", "[fd00::2]:1790", "[fd00::3]:179", "2001:db8::1"];

const peerSpec = fc
  .record({
    node: opt(fc.constantFrom(...NODE_NAMES, "ghost")),
    peerIP: fc.constantFrom(...PEER_IPS),
    asNumber: fc.constantFrom(0, ...AS_NUMBERS),
    nodeSelector: opt(fc.constantFrom(...SELECTORS)),
    // Mostly set: then the peerings come from nodes, and node changes reach them.
    peerSelector: fc.option(fc.constantFrom(...SELECTORS), { nil: undefined, freq: 3 }),
    keepOriginalNextHop: opt(fc.constant(true)),
    password: opt(fc.record({ secretKeyRef: fc.record({ name: fc.constantFrom("s1", "s2", "s3"), key: fc.constantFrom("a", "b") }) })),
    keepPeerIP: fc.boolean(),
  })
  // calicoctl stores peerIP "" and asNumber 0 for a peer selected by label; sometimes keep both anyway.
  .map(({ keepPeerIP, ...spec }) => defined(spec.peerSelector !== undefined && !keepPeerIP ? { ...spec, peerIP: "", asNumber: 0 } : spec));

function peerValue(name: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: peerSpec.map((spec) => resource("BGPPeer", name, spec)) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.constantFrom(...BAD_SELECTORS).map((s) => resource("BGPPeer", name, { peerIP: "", asNumber: 0, nodeSelector: "all()", peerSelector: s })),
        fc.constantFrom(...BAD_SELECTORS).map((s) => resource("BGPPeer", name, { peerIP: "10.0.0.1", asNumber: 0, nodeSelector: s })),
        fc.constantFrom("10.0.0.1:99999", "nonsense", "", "[fd00::1]", "10.0.0.1:").map((ip) => resource("BGPPeer", name, { peerIP: ip, asNumber: 64512 })),
        fc.constant(resource("BGPPeer", name, { peerIP: "10.0.0.1", asNumber: true })),
        fc.constant(resource("BGPPeer", name, { peerIP: "10.0.0.1", asNumber: 0, password: { secretKeyRef: { name: "s1" } } })),
      ),
    },
  );
}

function poolValue(name: string): fc.Arbitrary<string> {
  const mode = fc.constantFrom("Never", "Always", "CrossSubnet");
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .record({
          cidr: fc.constantFrom("192.168.0.0/16", "10.244.0.0/16", "fd00:1::/64"),
          vxlanMode: mode,
          ipipMode: mode,
          natOutgoing: opt(fc.constant(true)),
          disabled: opt(fc.constant(true)),
        })
        .map((spec) => resource("IPPool", name, { ...defined(spec), blockSize: spec.cidr.includes(":") ? 122 : 26, nodeSelector: "all()" })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        resource("IPPool", name, { cidr: "bogus", vxlanMode: "Never", ipipMode: "Never" }),
        resource("IPPool", name, { cidr: "10.0.0.1", vxlanMode: "Never", ipipMode: "Never" }),
        resource("IPPool", name, { cidr: "10.0.0.0/8", vxlanMode: "Never", ipipMode: "Sometimes" }),
        resource("IPPool", name, { cidr: "10.0.0.0/8", natOutgoing: "yes" }),
      ),
    },
  );
}

const affinityValue = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('{"state":"confirmed"}', "{}", "", '{"state":"pending"}', '{"state":"pendingDeletion","deleted":true}') },
  { weight: 1, arbitrary: fc.constantFrom("nope", '{"state":1}', "[]", '{"deleted":"x"}', "null") },
);

/** Keys whose values do not matter: other kinds Calico stores, keys outside what the derivation reads, and mistakes. */
const OTHER_KEYS: ReadonlyArray<[string, fc.Arbitrary<string>]> = [
  [`${RES}widgets/x`, fc.constant("{}")],
  [`${RES}nodes/ns/x`, fc.constant(resource("Node", "x", {}))],
  [`${RES}bgppeers/ns/p`, fc.constant(resource("BGPPeer", "p", { peerIP: "10.0.0.1", asNumber: 0 }))],
  [`${RES}bgpconfigurations/weird`, fc.constantFrom(resource("BGPConfiguration", "weird", { listenPort: 7 }), "{bad")],
  [`${RES}clusterinformations/default`, fc.constant(resource("ClusterInformation", "default", { datastoreReady: true }))],
  [`${RES}felixconfigurations/default`, fc.constantFrom(resource("FelixConfiguration", "default", { ipipEnabled: true }), "garbage")],
  [`${RES}networkpolicies/default/np`, fc.constant("whatever")],
  ["/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-26", fc.constant("{}")],
  [`/calico/ipam/v2/host/${NODE_NAME}/ipv4/garbage`, fc.constant("{}")],
];

interface Slot {
  key: string;
  /** The values a step may put here (1 to 3). */
  values: string[];
}

const slot = (key: string, value: fc.Arbitrary<string>): fc.Arbitrary<Slot> => fc.array(value, { minLength: 1, maxLength: 3 }).map((values) => ({ key, values }));

const universe: fc.Arbitrary<Slot[]> = fc
  .record({
    nodes: fc.subarray(NODE_NAMES, { minLength: 2 }),
    // Per-node configurations: mostly of nodes that exist, sometimes of one that does not.
    configs: fc.subarray([0, 1, 2]),
    peers: fc.integer({ min: 0, max: 5 }),
    pools: fc.integer({ min: 0, max: 2 }),
    others: fc.subarray([...OTHER_KEYS.keys()], { maxLength: 2 }),
  })
  .chain(({ nodes, configs, peers, pools, others }) => {
    const configNodes = configs.map((i) => nodes[i] ?? "ghost");
    const slots: Array<fc.Arbitrary<Slot>> = [
      ...nodes.map((n) => slot(`${RES}nodes/${n}`, nodeValue(n))),
      slot(`${RES}bgpconfigurations/default`, defaultConfigValue),
      ...configNodes.map((n) => slot(`${RES}bgpconfigurations/node.${n}`, nodeConfigValue(`node.${n}`))),
      ...Array.from({ length: peers }, (_, i) => slot(`${RES}bgppeers/peer-${i}`, peerValue(`peer-${i}`))),
      ...Array.from({ length: pools }, (_, i) => slot(`${RES}ippools/pool-${i}`, poolValue(`pool-${i}`))),
      // This node's affinities are in the view; another node's are not.
      ...[`${NODE_NAME}/ipv4/block/10.244.1.0-26`, `${NODE_NAME}/ipv6/block/fd00:1::-122`, "n2/ipv4/block/10.244.2.0-26"].map((b) => slot(`/calico/ipam/v2/host/${b}`, affinityValue)),
      ...others.map((i) => {
        const [key, value] = OTHER_KEYS[i] as [string, fc.Arbitrary<string>];
        return slot(key, value);
      }),
    ];
    return fc.tuple(...slots);
  });

// ---------------------------------------------------------------------------------------------
// Kubernetes objects

const base64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

// Namespaces and names are drawn from few, so that Secrets, Services and Endpoints meet often.
const secret: fc.Arbitrary<SecretObject> = fc.record({
  namespace: fc.constantFrom("kube-system", "kube-system", "default"),
  name: fc.constantFrom("s1", "s2", "s3"),
  data: fc.record({ a: fc.constantFrom("pw-a", "pw-a2").map(base64), b: fc.constantFrom("pw-b", "").map(base64) }, { requiredKeys: [] }),
});
const service: fc.Arbitrary<ServiceObject> = fc.record({
  namespace: fc.constantFrom("default", "default", "default", "other"),
  name: fc.constantFrom("svc1", "svc2"),
  type: fc.constantFrom("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"),
  clusterIP: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("10.101.0.10", "10.101.0.11", "fd00:96::10") },
    { weight: 1, arbitrary: fc.constantFrom("None", "", "10.200.0.1") },
  ),
  externalTrafficPolicy: fc.constantFrom("Local", "Local", "Local", "Cluster", ""),
  externalIPs: fc.subarray(["172.16.0.1", "172.17.0.1", "fd00:ee::5"]),
});
const endpoints: fc.Arbitrary<EndpointsObject> = fc.record({
  namespace: fc.constantFrom("default", "default", "default", "other"),
  name: fc.constantFrom("svc1", "svc2"),
  addresses: fc.array(fc.record({ ip: fc.constantFrom("192.168.1.1", "192.168.1.2", "fd00:1::5"), nodeName: fc.constantFrom(NODE_NAME, NODE_NAME, "n2", "") }), { maxLength: 3 }),
});
const kubernetesObjects: fc.Arbitrary<KubernetesObjects> = fc.record({
  secrets: fc.array(secret, { maxLength: 4 }),
  services: fc.array(service, { maxLength: 4 }),
  endpoints: fc.array(endpoints, { maxLength: 4 }),
});

// ---------------------------------------------------------------------------------------------
// Steps, and the check after each

/** `value`: an index into the slot's values (modulo their number), or null to delete the key. */
type Op = { slot: number; value: number | null };

type Step =
  /** One apply() call: one event, or several (one etcd transaction, or a file edit). */
  | { step: "apply"; ops: Op[] }
  /** Changes the derivation never sees as events: the watch was cut and etcd compacted them away. */
  | { step: "lost"; ops: Op[] }
  | { step: "kubernetes"; objects: KubernetesObjects }
  /** A full listing (compaction recovery, a restart), in any order. */
  | { step: "relist"; seed: number };

const op: fc.Arbitrary<Op> = fc.record({ slot: fc.nat(), value: fc.option(fc.nat(), { nil: null, freq: 4 }) });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ step: fc.constant("apply" as const), ops: fc.array(op, { minLength: 1, maxLength: 1 }) }) },
  { weight: 3, arbitrary: fc.record({ step: fc.constant("apply" as const), ops: fc.array(op, { minLength: 2, maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ step: fc.constant("lost" as const), ops: fc.array(op, { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ step: fc.constant("kubernetes" as const), objects: kubernetesObjects }) },
  { weight: 1, arbitrary: fc.record({ step: fc.constant("relist" as const), seed: fc.integer() }) },
);

const OPTIONS = { nodeName: NODE_NAME, nodeRef: NODE_NAME, secretsNamespace: "kube-system" };

/** A view as sorted [key, value] pairs, so two views compare whatever their insertion order. */
function sorted(view: Iterable<[string, string]>): Array<[string, string]> {
  return [...view].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function messages(problems: readonly DerivationProblem[]): string[] {
  return [...new Set(problems.map((p) => `${p.severity} ${p.key ?? "-"} ${p.message}`))].sort();
}

function listing(state: ReadonlyMap<string, string>, seed: number): KeyValue[] {
  return shuffled(
    [...state].map(([key, value]) => ({ key, value })),
    seed,
  );
}

/** A fresh derivation of a datastore and its Kubernetes objects, which it is given first or last. */
function fresh(state: ReadonlyMap<string, string>, kubernetes: KubernetesObjects, seed: number, kubernetesFirst: boolean): CalicoDerivation {
  const d = new CalicoDerivation(OPTIONS);
  if (kubernetesFirst) d.setKubernetes(kubernetes);
  d.reset(listing(state, seed));
  if (!kubernetesFirst) d.setKubernetes(kubernetes);
  return d;
}

/** The difference from one view to the next, as the change list a derivation should return. */
function difference(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): DerivedChange[] {
  const changes: DerivedChange[] = [];
  for (const [key, value] of after) if (before.get(key) !== value) changes.push({ type: "put", key, value });
  for (const key of before.keys()) if (!after.has(key)) changes.push({ type: "delete", key });
  return changes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function applyChanges(mirror: Map<string, string>, changes: readonly DerivedChange[]): void {
  for (const c of changes) {
    if (c.type === "put") mirror.set(c.key, c.value);
    else mirror.delete(c.key);
  }
}

describe("the incremental Calico v3 derivation equals a fresh one", () => {
  it("after any sequence of puts, deletes, Kubernetes changes, lost changes and relistings: same view, exact change lists, same problems", () => {
    fc.assert(
      fc.property(universe, fc.array(fc.option(fc.nat(), { nil: null }), { maxLength: 40 }), fc.array(step, { minLength: 1, maxLength: 30 }), kubernetesObjects, (slots, initial, steps, kubernetes0) => {
        const valueOf = (o: Op): { key: string; value: string | undefined } => {
          const s = slots[o.slot % slots.length] as Slot;
          return { key: s.key, value: o.value === null ? undefined : (s.values[o.value % s.values.length] as string) };
        };
        const state = new Map<string, string>();
        initial.forEach((v, i) => {
          if (i >= slots.length || v === null) return;
          const { key, value } = valueOf({ slot: i, value: v });
          if (value !== undefined) state.set(key, value);
        });
        let kubernetes = kubernetes0;
        const reported = new Set<string>();
        const incremental = new CalicoDerivation({ ...OPTIONS, onProblem: (p) => reported.add(messages([p])[0] as string) });
        const mirror = new Map<string, string>();

        const check = (what: string, changes: DerivedChange[], before: ReadonlyMap<string, string>) => {
          const view = new Map(incremental.entries());
          // The changes are the exact difference: nothing missing, nothing spurious, no key twice.
          expect([...changes].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)), `${what}: change list`).toEqual(difference(before, view));
          applyChanges(mirror, changes);
          expect(sorted(mirror), `${what}: the mirror`).toEqual(sorted(view));
          const reference = fresh(state, kubernetes, state.size, true);
          expect(sorted(view), `${what}: view`).toEqual(sorted(reference.entries()));
          expect(messages(incremental.problems()), `${what}: problems`).toEqual(messages(reference.problems()));
          for (const m of messages(incremental.problems())) expect(reported, `${what}: reported`).toContain(m);
          // Nothing of the v3 datastore leaks into the v1 view.
          for (const key of view.keys()) expect(key.startsWith("/calico/resources/")).toBe(false);
        };

        // As CalicoV3Store.list does: the Kubernetes objects, then the listing.
        applyChanges(mirror, incremental.setKubernetes(kubernetes));
        const first = new Map(incremental.entries());
        check("first listing", incremental.reset(listing(state, 1)), first);

        let lost = false;
        const relist = (what: string, seed: number) => {
          lost = false;
          const before = new Map(incremental.entries());
          check(what, incremental.reset(listing(state, seed)), before);
        };
        const write = (ops: readonly Op[], revision: number): ChangeEvent[] =>
          ops.map((o) => {
            const { key, value } = valueOf(o);
            if (value === undefined) state.delete(key);
            else state.set(key, value);
            return value === undefined ? { type: "delete", key, revision } : { type: "put", key, value, revision };
          });

        for (const [i, s] of steps.entries()) {
          const what = `step ${i} (${s.step})`;
          if (s.step === "lost") {
            write(s.ops, i + 2);
            lost = true;
            continue;
          }
          // After a loss the store lists again before anything else (its resume revision is gone).
          if (lost) relist(`${what}: relisting after a loss`, i);
          if (s.step === "relist") {
            relist(what, s.seed);
            continue;
          }
          const before = new Map(incremental.entries());
          if (s.step === "apply") {
            check(what, incremental.apply(write(s.ops, i + 2)), before);
          } else {
            kubernetes = s.objects;
            check(what, incremental.setKubernetes(kubernetes), before);
          }
        }
        if (lost) relist("final relisting", 0);
      }),
      { numRuns: 400 },
    );
  });

  it("a fresh derivation does not depend on the order of the listing, nor on when the Kubernetes objects arrive", () => {
    fc.assert(
      fc.property(universe, fc.array(fc.nat(), { minLength: 40, maxLength: 40 }), kubernetesObjects, fc.integer(), fc.integer(), (slots, picks, kubernetes, seedA, seedB) => {
        const state = new Map<string, string>();
        slots.forEach((s, i) => {
          const pick = picks[i] ?? 0;
          // About one key in five absent.
          if (pick % 5 !== 0) state.set(s.key, s.values[pick % s.values.length] as string);
        });
        const a = fresh(state, kubernetes, seedA, true);
        const b = fresh(state, kubernetes, seedB, false);
        expect(sorted(b.entries())).toEqual(sorted(a.entries()));
        expect(messages(b.problems())).toEqual(messages(a.problems()));
        // The three defaults are always there.
        expect(a.entries().has("/calico/bgp/v1/global/as_num")).toBe(true);
        expect(a.entries().has("/calico/bgp/v1/global/node_mesh")).toBe(true);
        expect(a.entries().has("/calico/bgp/v1/global/loglevel")).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
