/**
 * End to end on the wire, from Calico's v3 datastore: the netns BGP test of bgp-e2e.test.ts, with
 * etcd holding only what an etcd-mode Calico v3.16 cluster stores — Node, BGPConfiguration,
 * IPPool and BGPPeer resources as JSON under /calico/resources/v3/projectcalico.org/, and raw
 * block affinities — and `perch watch --calico-v3` on each node deriving the v1 keys the shipped
 * templates read. Three BIRD 1.6 daemons first form the full node-to-node mesh; then the mesh is
 * turned off and a BGPPeer with a nodeSelector and a peerSelector is added, and BIRD must end up
 * with exactly the sessions Calico's peering rules give, through the watch stream alone.
 *
 * The pool is VXLAN, so bird_ipam.cfg holds no `krt_tunnel` (stock BIRD lacks it) and its kernel
 * filter rejects the pool's routes (Felix programs VXLAN routes): blocks are checked in BIRD's
 * table, not the kernel's. Resource values have the shape of the etcd.json files of
 * ../shared/conformance/calico-v3.16-datastore: Go field order, compact JSON.
 */
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { birdcReloadingCalicoSet, PERCH, runPerch } from "../helpers/confdir.js";
import { startEtcd, type EtcdServer } from "../helpers/etcd-server.js";
import { birdc, birdDiagnostics, createTopology, exec, startBird, type BirdDaemon, type NetnsNode, type Topology } from "../helpers/netns.js";
import { startWatch, waitFor, waitUntilNone, type WatchProcess } from "../helpers/watch-process.js";

/** Where the shipped conf.d puts BIRD's files, under `--root`. */
const CONFIG_SUBDIR = "etc/calico/confd/config";
const RESOURCES = "/calico/resources/v3/projectcalico.org";
const CONVERGE_TIMEOUT_MS = 45_000;
const POLL_MS = 250;
/** Each phase waits for files, then for BGP (connect delay 2 s, error wait 5 s): well under this. */
const PHASE_TIMEOUT_MS = 90_000;

/**
 * n1 is the "route reflector" side of the BGPPeer below (has(rr)); n2 and n3 differ only in the
 * value of `group`, so a selector that ignored the value would peer n3 too.
 */
const NODE_LABELS: Record<string, Record<string, string>> = {
  n1: { rr: "true" },
  n2: { group: "a" },
  n3: { group: "b" },
};
const NODE_NAMES = Object.keys(NODE_LABELS);

/** The BGPPeer of the second phase, as calicoctl stores it: peerIP and asNumber always present. */
const SELECTOR_PEER = { name: "group-a-to-rr", spec: { peerIP: "", asNumber: 0, nodeSelector: "group == 'a'", peerSelector: "has(rr)" } };

/** Sessions a node must have: the peer node and the kind of protocol bird.cfg names it by. */
type Sessions = Record<string, Array<{ peer: string; kind: "Mesh" | "Node" }>>;

/** Mesh on, no BGPPeer: every node peers with every other one through `Mesh_<ip>`. */
const MESH_SESSIONS: Sessions = Object.fromEntries(
  NODE_NAMES.map((name) => [name, NODE_NAMES.filter((other) => other !== name).map((peer) => ({ peer, kind: "Mesh" as const }))]),
);

/**
 * Mesh off, SELECTOR_PEER in (README "BGP peerings"): no global pass (the peer has a
 * nodeSelector). Node pass: the local nodes match group == 'a' (n2 only), each peers with the
 * nodes matching has(rr): n2 → n1. Reverse pass: has(rr)'s nodes peer back with every local node:
 * n1 → n2. So n1–n2 is the only session (`Node_<ip>`, port 0: no suffix); n1–n3 and n2–n3 are gone.
 */
const SELECTOR_SESSIONS: Sessions = {
  n1: [{ peer: "n2", kind: "Node" }],
  n2: [{ peer: "n1", kind: "Node" }],
  n3: [],
};

interface RunningNode extends NetnsNode {
  bird: BirdDaemon;
  watch: WatchProcess;
  confdir: string;
  root: string;
  configDir: string;
}

let etcd: EtcdServer | undefined;
let scratch = "";
let topology: Topology | undefined;
const watches: WatchProcess[] = [];
/** Set once the first phase has the cluster running; the second phase builds on it. */
let cluster: RunningNode[] | undefined;

function server(): EtcdServer {
  if (etcd === undefined) throw new Error("etcd did not start");
  return etcd;
}

// ---------------------------------------------------------------------------------------------
// The v3 datastore, shaped like libcalico-go v3.16 stores it

/** uid and creationTimestamp per key: an update keeps them, as `calicoctl apply` does. */
const stamps = new Map<string, { uid: string; creationTimestamp: string }>();

/** A synthetic version-1 style uid and a one-second-per-write clock, as in the fixtures. */
function stampOf(key: string): { uid: string; creationTimestamp: string } {
  let stamp = stamps.get(key);
  if (stamp === undefined) {
    const seq = stamps.size + 1;
    const hex = seq.toString(16).padStart(3, "0");
    stamp = {
      uid: `a0000${hex}-9d7d-11eb-8${hex}-02425f000001`,
      creationTimestamp: new Date(Date.UTC(2021, 3, 15, 0, 0, seq)).toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
    stamps.set(key, stamp);
  }
  return stamp;
}

/** `{"kind","apiVersion","metadata":{name,uid,creationTimestamp[,labels]},"spec"}` (+ Node's `"status":{}`). */
async function putResource(kind: string, plural: string, name: string, spec: Record<string, unknown>, labels?: Record<string, string>): Promise<void> {
  const key = `${RESOURCES}/${plural}/${name}`;
  const sortedLabels = labels === undefined ? undefined : Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
  const value = JSON.stringify({
    kind,
    apiVersion: "projectcalico.org/v3",
    metadata: { name, ...stampOf(key), ...(sortedLabels === undefined ? {} : { labels: sortedLabels }) },
    spec,
    ...(kind === "Node" ? { status: {} } : {}),
  });
  await server().client().put(key).value(value);
}

function blockOf(name: string): string {
  return `10.244.${NODE_NAMES.indexOf(name) + 1}.0/26`;
}

/** Nodes, BGPConfiguration default with no spec fields (mesh on, AS 64512), a VXLAN pool, one confirmed block per node. */
async function putMeshCluster(nodes: NetnsNode[]): Promise<void> {
  await server().client().delete().prefix("/calico");
  for (const node of nodes) {
    // CIDR form, as calico/node writes it: the derivation takes ip_addr_v4 and network_v4 from it.
    await putResource("Node", "nodes", node.name, { bgp: { ipv4Address: `${node.address}/24` } }, NODE_LABELS[node.name]);
  }
  await putResource("BGPConfiguration", "bgpconfigurations", "default", {});
  await putResource("IPPool", "ippools", "vxlan-pool", {
    cidr: "10.244.0.0/16", vxlanMode: "Always", ipipMode: "Never", natOutgoing: true, blockSize: 26, nodeSelector: "all()",
  });
  for (const node of nodes) {
    await server().client().put(`/calico/ipam/v2/host/${node.name}/ipv4/block/${blockOf(node.name).replace("/", "-")}`).value('{"state":"confirmed"}');
  }
}

// ---------------------------------------------------------------------------------------------
// What BIRD must show

function protocolName(kind: "Mesh" | "Node", address: string): string {
  return `${kind}_${address.replaceAll(".", "_")}`;
}

function addressOf(name: string, nodes: NetnsNode[]): string {
  const node = nodes.find((n) => n.name === name);
  if (node === undefined) throw new Error(`no node ${name}`);
  return node.address;
}

/** The BGP protocol names a node must run, sorted. */
function wantedProtocols(node: NetnsNode, sessions: Sessions, nodes: NetnsNode[]): string[] {
  return (sessions[node.name] ?? []).map((s) => protocolName(s.kind, addressOf(s.peer, nodes))).sort();
}

/** The `protocol bgp NAME` blocks of a bird.cfg, sorted (bgp_template is a template, not a protocol). */
function protocolsInConfig(cfg: string): string[] {
  return [...cfg.matchAll(/^protocol bgp (\S+) from bgp_template/gm)].map((m) => m[1] as string).sort();
}

/**
 * Every 10.244.x route in BIRD's table with the protocol it came from: the node's own block from
 * bird_aggr.cfg's static protocol, the others' from BGP. Continuation lines (other paths) are skipped.
 */
function blockRoutes(showRoute: string): Map<string, string> {
  const routes = new Map<string, string>();
  for (const m of showRoute.matchAll(/^(10\.244\.\d+\.\d+\/\d+)\s+(.*)$/gm)) {
    const cidr = m[1] as string;
    const rest = m[2] as string;
    const proto = /\[(\S+) /.exec(rest)?.[1] ?? "?";
    routes.set(cidr, rest.startsWith("blackhole") ? "blackhole" : `${proto} via ${/via (\S+)/.exec(rest)?.[1] ?? "?"}`);
  }
  return routes;
}

/**
 * What the wire does not show yet: on every node, exactly the wanted BGP protocols, each
 * Established; and exactly these block routes: its own as a blackhole, each session peer's via
 * that session (iBGP without route reflection passes nothing further). Empty when all is there.
 */
async function wireMismatches(nodes: RunningNode[], sessions: Sessions): Promise<string[]> {
  const problems: string[] = [];
  for (const node of nodes) {
    const protocols = await birdc(node.ns, node.bird.ctl, "show protocols");
    const bgp = new Map<string, string>();
    for (const line of protocols.split("\n")) {
      const cols = line.trim().split(/\s+/);
      if (cols[1] === "BGP") bgp.set(cols[0] as string, line);
    }
    const want = wantedProtocols(node, sessions, nodes);
    const have = [...bgp.keys()].sort();
    if (have.join(",") !== want.join(",")) problems.push(`${node.name}: BGP protocols [${have.join(", ")}], want [${want.join(", ")}]`);
    for (const name of want) {
      if (!/\sEstablished\s*$/.test(bgp.get(name) ?? "")) problems.push(`${node.name}: ${name} not Established`);
    }

    const wantRoutes = new Map<string, string>([[blockOf(node.name), "blackhole"]]);
    for (const s of sessions[node.name] ?? []) {
      const address = addressOf(s.peer, nodes);
      wantRoutes.set(blockOf(s.peer), `${protocolName(s.kind, address)} via ${address}`);
    }
    const haveRoutes = blockRoutes(await birdc(node.ns, node.bird.ctl, "show route"));
    const fmt = (m: Map<string, string>): string => [...m].sort().map(([cidr, from]) => `${cidr} ${from}`).join("; ");
    if (fmt(haveRoutes) !== fmt(wantRoutes)) problems.push(`${node.name}: block routes {${fmt(haveRoutes)}}, want {${fmt(wantRoutes)}}`);
  }
  return problems;
}

/** Everything needed to see why a wait failed, per node. */
function diagnostics(nodes: RunningNode[]): Promise<string> {
  return birdDiagnostics(nodes, (node) => [
    ["bird.cfg", () => readFile(path.join(node.configDir, "bird.cfg"), "utf8")],
    ["perch watch, last 30 events", async () => node.watch.events.slice(-30).map((e) => JSON.stringify(e)).join("\n")],
  ]);
}

/** Polls until `wireMismatches` is empty; on timeout, fails with what differs and the state of every node. */
function waitOnWire(what: string, nodes: RunningNode[], sessions: Sessions): Promise<void> {
  return waitUntilNone(what, () => wireMismatches(nodes, sessions), "still wrong", () => diagnostics(nodes), CONVERGE_TIMEOUT_MS, POLL_MS);
}

/**
 * Waits until each node's bird.cfg, as perch watch wrote it, names exactly the wanted BGP
 * protocols and passes `extra`; on timeout, fails with what each file names instead.
 */
async function waitForConfigs(nodes: Array<NetnsNode & { configDir: string }>, sessions: Sessions, extra: (cfg: string) => boolean, what: string): Promise<void> {
  const wrong = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const node of nodes) {
      const cfg = await readFile(path.join(node.configDir, "bird.cfg"), "utf8").catch(() => "");
      const want = wantedProtocols(node, sessions, nodes).join(", ");
      const have = protocolsInConfig(cfg).join(", ");
      if (have !== want || !extra(cfg)) out.push(`${node.name}: bird.cfg names [${have}], want [${want}]${extra(cfg) ? "" : ` and ${what}`}`);
    }
    return out;
  };
  let problems: string[] = [];
  try {
    await waitFor(`bird.cfg on every node: ${what}`, async () => ((problems = await wrong()).length === 0 ? true : undefined), CONVERGE_TIMEOUT_MS, POLL_MS);
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n  ${problems.join("\n  ")}`, { cause: err });
  }
}

/**
 * `perch render --calico-v3 --noop --exit-code` against what perch watch installed: the one-shot
 * listing derives the same v1 view as the watch stream did, so nothing would change (exit 0).
 */
async function expectRenderAgrees(node: RunningNode): Promise<void> {
  const r = await runPerch([
    "render", "--calico-v3", "--backend", "etcd", "--endpoints", server().clientUrl, "--confdir", node.confdir,
    "--node-name", node.name, "--root", node.root, "--noop", "--exit-code",
  ]);
  expect(r.exitCode, `perch render --calico-v3 --noop for ${node.name} agrees with perch watch:\n${r.all}`).toBe(0);
}

beforeAll(async () => {
  await access(PERCH).catch(() => {
    throw new Error(`${PERCH} is missing: run "npm run build" first`);
  });
  etcd = await startEtcd();
  scratch = await mkdtemp(path.join(tmpdir(), "perch-bgp-e2e-v3-"));
});

afterAll(async () => {
  // Each step runs whatever the one before did; none of them throws.
  await Promise.all(watches.map((w) => w.stop()));
  await topology?.teardown();
  await etcd?.stop();
  if (scratch !== "") await rm(scratch, { recursive: true, force: true });
});

describe("BIRD in network namespaces, configured by perch --calico-v3 from Calico's v3 resources in etcd", () => {
  it("mesh on: every node Established with both others, every block exchanged", { timeout: PHASE_TIMEOUT_MS }, async () => {
    topology = await createTopology(NODE_NAMES);
    await putMeshCluster(topology.nodes);
    const started: Array<NetnsNode & { watch: WatchProcess; confdir: string; root: string; configDir: string }> = [];
    for (const node of topology.nodes) {
      const root = path.join(scratch, node.name, "root");
      const configDir = path.join(root, CONFIG_SUBDIR);
      const confdir = await birdcReloadingCalicoSet(path.join(scratch, node.name, "confdir"), path.join(configDir, "bird.ctl"));
      const watch = await startWatch([
        "--calico-v3", "--backend", "etcd", "--endpoints", server().clientUrl, "--confdir", confdir,
        "--node-name", node.name, "--root", root,
      ]);
      watches.push(watch);
      started.push({ ...node, watch, confdir, root, configDir });
    }
    await waitForConfigs(started, MESH_SESSIONS, (cfg) => !cfg.includes("# Node-to-node mesh disabled"), "the mesh on");
    for (const node of started) {
      const ipam = await readFile(path.join(node.configDir, "bird_ipam.cfg"), "utf8");
      expect(ipam, `${node.name}: a VXLAN pool needs no krt_tunnel, which stock BIRD lacks`).not.toContain("krt_tunnel");
      // Only with network_v4, derived from the Node's CIDR-form address, does the pool get its kernel rule.
      expect(ipam, `${node.name}: network_v4 derived from spec.bgp.ipv4Address`).toContain("Don't program VXLAN routes into the kernel");
    }

    // BIRD starts on what perch watch wrote; the first pass's reload, with no BIRD yet, is retried.
    const nodes: RunningNode[] = [];
    for (const node of started) nodes.push({ ...node, bird: await startBird(node.ns, node.configDir) });
    await waitOnWire("the full mesh and every node's block", nodes, MESH_SESSIONS);
    for (const node of nodes) {
      const { stdout } = await exec(node.ns, "ip", ["route"]);
      expect(stdout, `${node.name}: the kernel filter keeps VXLAN pool routes out of the kernel`).not.toContain("10.244.");
      await expectRenderAgrees(node);
    }
    cluster = nodes;
  });

  it("mesh off and a BGPPeer with selectors: exactly the selected pair and its reverse peering, through perch watch alone", { timeout: PHASE_TIMEOUT_MS }, async () => {
    const nodes = cluster;
    if (nodes === undefined) throw new Error("the mesh phase did not bring the cluster up");
    // Mesh off first, then the peer, as two writes (calicoctl applies one resource at a time); in
    // the other order n2 would briefly have a Mesh_ and a Node_ protocol to the same neighbour.
    await putResource("BGPConfiguration", "bgpconfigurations", "default", { nodeToNodeMeshEnabled: false });
    await putResource("BGPPeer", "bgppeers", SELECTOR_PEER.name, SELECTOR_PEER.spec);

    await waitForConfigs(nodes, SELECTOR_SESSIONS, (cfg) => cfg.includes("# Node-to-node mesh disabled"), "the mesh off");
    await waitOnWire("only the selected peering n1–n2, the mesh gone", nodes, SELECTOR_SESSIONS);
    for (const node of nodes) await expectRenderAgrees(node);
  });
});
