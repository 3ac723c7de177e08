/**
 * End to end on the wire: three BIRD 1.6 daemons in network namespaces on one L2 segment, each
 * running the Calico configuration that perch renders from a real etcd, form the node-to-node
 * mesh and exchange their IPAM blocks. A block added in etcd then reaches the other nodes: first
 * through `perch render` and a manual `birdc configure`, then through `perch watch` alone.
 *
 * The pool is VXLAN, so bird_ipam.cfg holds no `krt_tunnel` (stock BIRD lacks it) and its kernel
 * filter rejects the pool's routes (Felix programs VXLAN routes): the blocks are checked in BIRD's
 * table, not the kernel's.
 */
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { birdcReloadingCalicoSet, PERCH, REPO, runPerch } from "../helpers/confdir.js";
import { startEtcd, type EtcdServer } from "../helpers/etcd-server.js";
import { birdc, birdDiagnostics, createTopology, exec, startBird, type BirdDaemon, type NetnsNode, type Topology } from "../helpers/netns.js";
import { startWatch, waitUntilNone, type WatchProcess } from "../helpers/watch-process.js";

const NODE_NAMES = ["n1", "n2", "n3"];
/** Where the shipped conf.d puts BIRD's files, under `--root`. */
const CONFIG_SUBDIR = "etc/calico/confd/config";
const CONVERGE_TIMEOUT_MS = 60_000;
const POLL_MS = 250;

let etcd: EtcdServer | undefined;
let scratch = "";
const topologies: Topology[] = [];
const watches: WatchProcess[] = [];

interface Block {
  owner: string;
  cidr: string;
}

interface RunningNode extends NetnsNode {
  bird: BirdDaemon;
}

function blockKey(block: Block): string {
  return `/calico/ipam/v2/host/${block.owner}/ipv4/block/${block.cidr.replace("/", "-")}`;
}

/** One /26 per node, as Calico's IPAM would hand out. */
function initialBlocks(): Block[] {
  return NODE_NAMES.map((owner, i) => ({ owner, cidr: `10.244.${i + 1}.0/26` }));
}

/** Calico's v1 keys for the three-node cluster (as in the vxlan-always conformance case). */
function clusterKeys(nodes: NetnsNode[]): Record<string, string> {
  const keys: Record<string, string> = {
    "/calico/bgp/v1/global/as_num": "64512",
    "/calico/bgp/v1/global/node_mesh": '{"enabled":true}',
    "/calico/bgp/v1/global/loglevel": "info",
    "/calico/v1/ipam/v4/pool/10.244.0.0-16": JSON.stringify({
      cidr: "10.244.0.0/16",
      ipip: "",
      ipip_mode: "",
      vxlan_mode: "always",
      masquerade: true,
      ipam: true,
      disabled: false,
    }),
  };
  for (const node of nodes) {
    const host = `/calico/bgp/v1/host/${node.name}`;
    keys[`${host}/ip_addr_v4`] = node.address;
    keys[`${host}/ip_addr_v6`] = "";
    keys[`${host}/rr_cluster_id`] = "";
    keys[`${host}/network_v4`] = "10.99.0.0/24";
  }
  for (const block of initialBlocks()) keys[blockKey(block)] = '{"state":"confirmed"}';
  return keys;
}

function server(): EtcdServer {
  if (etcd === undefined) throw new Error("etcd did not start");
  return etcd;
}

async function resetCluster(nodes: NetnsNode[]): Promise<void> {
  const client = server().client();
  await client.delete().prefix("/calico");
  for (const [key, value] of Object.entries(clusterKeys(nodes))) await client.put(key).value(value);
}

async function addBlock(block: Block): Promise<void> {
  await server().client().put(blockKey(block)).value('{"state":"confirmed"}');
}

async function newTopology(): Promise<Topology> {
  const topo = await createTopology(NODE_NAMES);
  topologies.push(topo);
  return topo;
}

/** `perch render --sync-only` of the shipped set for one node; the `bird -p` check runs too. */
async function render(node: NetnsNode, root: string): Promise<void> {
  const r = await runPerch([
    "render", "--backend", "etcd", "--endpoints", server().clientUrl, "--confdir", REPO,
    "--node-name", node.name, "--root", root, "--sync-only",
  ]);
  expect(r.exitCode, `perch render for ${node.name}:\n${r.all}`).toBe(0);
}

function rootOf(phase: string, node: NetnsNode): string {
  return path.join(scratch, phase, node.name);
}

function configDirOf(phase: string, node: NetnsNode): string {
  return path.join(rootOf(phase, node), CONFIG_SUBDIR);
}

function meshProtocol(address: string): string {
  return `Mesh_${address.replaceAll(".", "_")}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/**
 * What the wire does not show yet: on every node, each mesh session Established, its own blocks
 * as the static blackholes of bird_aggr.cfg, and every other node's blocks learnt from that
 * node's mesh session with that node as the next hop. Empty when all is there.
 */
async function missingOnWire(nodes: RunningNode[], blocks: Block[]): Promise<string[]> {
  const missing: string[] = [];
  for (const node of nodes) {
    const protocols = await birdc(node.ns, node.bird.ctl, "show protocols");
    const routes = await birdc(node.ns, node.bird.ctl, "show route");
    for (const peer of nodes) {
      if (peer === node) continue;
      const name = meshProtocol(peer.address);
      if (!new RegExp(`^${name}\\s.*\\sEstablished\\s*$`, "m").test(protocols)) missing.push(`${node.name}: ${name} not Established`);
    }
    for (const block of blocks) {
      const owner = nodes.find((n) => n.name === block.owner);
      if (owner === undefined) throw new Error(`no node ${block.owner}`);
      const cidr = escapeRegExp(block.cidr);
      const want =
        owner === node
          ? new RegExp(`^${cidr}\\s+blackhole\\s`, "m")
          : new RegExp(`^${cidr}\\s+via ${escapeRegExp(owner.address)} on eth0 \\[${meshProtocol(owner.address)}\\s`, "m");
      if (!want.test(routes)) missing.push(`${node.name}: no route ${block.cidr} ${owner === node ? "blackhole" : `via ${owner.address}`}`);
    }
  }
  return missing;
}

/** Everything needed to see why a wait failed, per node. */
function diagnostics(nodes: RunningNode[]): Promise<string> {
  return birdDiagnostics(nodes, (node) => [
    ["ip route", async () => (await exec(node.ns, "ip", ["route"])).stdout],
    ["ip -br addr", async () => (await exec(node.ns, "ip", ["-br", "addr"])).stdout],
  ]);
}

/** Polls until `missingOnWire` is empty; on timeout, fails with what is missing and the state of every node. */
function waitOnWire(what: string, nodes: RunningNode[], blocks: Block[]): Promise<void> {
  return waitUntilNone(what, () => missingOnWire(nodes, blocks), "still missing", () => diagnostics(nodes), CONVERGE_TIMEOUT_MS, POLL_MS);
}

async function startBirds(topo: Topology, phase: string): Promise<RunningNode[]> {
  const running: RunningNode[] = [];
  for (const node of topo.nodes) running.push({ ...node, bird: await startBird(node.ns, configDirOf(phase, node)) });
  return running;
}

beforeAll(async () => {
  await access(PERCH).catch(() => {
    throw new Error(`${PERCH} is missing: run "npm run build" first`);
  });
  etcd = await startEtcd();
  scratch = await mkdtemp(path.join(tmpdir(), "perch-bgp-e2e-"));
});

afterAll(async () => {
  // Each step runs whatever the one before did; none of them throws.
  await Promise.all(watches.map((w) => w.stop()));
  for (const topo of topologies) await topo.teardown();
  await etcd?.stop();
  if (scratch !== "") await rm(scratch, { recursive: true, force: true });
});

describe("BIRD in network namespaces, configured by perch from etcd", () => {
  it("perch render: the mesh comes up with every node's blocks; a new block arrives after a render and birdc configure", async () => {
    const topo = await newTopology();
    await resetCluster(topo.nodes);
    for (const node of topo.nodes) {
      await render(node, rootOf("render", node));
      const ipam = await readFile(path.join(configDirOf("render", node), "bird_ipam.cfg"), "utf8");
      expect(ipam, "a VXLAN pool needs no krt_tunnel, which stock BIRD lacks").not.toContain("krt_tunnel");
    }
    const nodes = await startBirds(topo, "render");
    const blocks = initialBlocks();
    await waitOnWire("the mesh and every node's blocks", nodes, blocks);
    for (const node of nodes) {
      const { stdout } = await exec(node.ns, "ip", ["route"]);
      expect(stdout, `${node.name}: the kernel filter keeps VXLAN pool routes out of the kernel`).not.toContain("10.244.");
    }

    const n1 = nodes[0] as RunningNode;
    const added: Block = { owner: n1.name, cidr: "10.244.100.0/26" };
    await addBlock(added);
    await render(n1, rootOf("render", n1));
    expect(await readFile(path.join(configDirOf("render", n1), "bird_aggr.cfg"), "utf8")).toContain(`route ${added.cidr} blackhole;`);
    expect(await birdc(n1.ns, n1.bird.ctl, "configure")).toContain("Reconfigured");
    await waitOnWire(`${added.cidr} on n2 and n3`, nodes, [...blocks, added]);
  });

  it("perch watch: a block added in etcd reaches the other nodes with no manual render or reload", async () => {
    const topo = await newTopology();
    await resetCluster(topo.nodes);
    for (const node of topo.nodes) {
      const configDir = configDirOf("watch", node);
      const confdir = await birdcReloadingCalicoSet(path.join(scratch, "watch", `${node.name}-confdir`), path.join(configDir, "bird.ctl"));
      const w = await startWatch([
        "--backend", "etcd", "--endpoints", server().clientUrl, "--confdir", confdir,
        "--node-name", node.name, "--root", rootOf("watch", node),
      ]);
      watches.push(w);
      await w.waitForFile(path.join(configDir, "bird.cfg"), (s) => s.includes("protocol bgp Mesh_"));
    }
    // BIRD starts on what perch watch wrote; the first pass's reload, with no BIRD yet, is retried.
    const nodes = await startBirds(topo, "watch");
    const blocks = initialBlocks();
    await waitOnWire("the mesh and every node's blocks", nodes, blocks);

    const added: Block = { owner: "n2", cidr: "10.244.102.0/26" };
    await addBlock(added);
    await waitOnWire(`${added.cidr} on n1 and n3, through perch watch alone`, nodes, [...blocks, added]);
  });
});
