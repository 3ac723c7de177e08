// Synthetic Calico clusters in Calico's v1 key model (the key names and value formats of
// ../shared/conformance/calico-v3.16/*/keys.json) and the same clusters in v3 form (the etcd
// datastore of ../shared/conformance/calico-v3.16-datastore/*/etcd.json, which `--calico-v3`
// derives the v1 keys from), and loading them into etcd in batches.
import { Buffer } from "node:buffer";

export const LOCAL_NODE = "node-00000";
export const GLOBAL_AS = "64512";
const BLOCKS_V4 = 3;
const BLOCKS_V6 = 2;
const GLOBAL_PEERS = 3;
const PEER_AS = "64513";
const V3 = "/calico/resources/v3/projectcalico.org";

export function nodeName(i) {
  return `node-${String(i).padStart(5, "0")}`;
}

/** The node's IPv4 address: unique up to 250 × 250 × 16 nodes, never .0 or .255. */
export function nodeIPv4(i) {
  return `10.${100 + Math.floor(i / 62_500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`;
}

function nodeNetworkV4(i) {
  return `10.${100 + Math.floor(i / 62_500)}.0.0`;
}

function nodeIPv6(i) {
  return `fd00:10::${(i + 1).toString(16)}`;
}

/** The k-th IPv4 block of node i: /26 blocks out of 172.16.0.0/12. */
function blockV4(i, k) {
  const n = i * BLOCKS_V4 + k; // 64 addresses each
  const a = n * 64;
  return `172.${16 + Math.floor(a / 65_536)}.${Math.floor(a / 256) % 256}.${a % 256}-26`;
}

function blockV6(i, k) {
  return `fd00:${(0x1000 + i).toString(16)}:${k.toString(16)}::-122`;
}

function globalPeerIPv4(p) {
  return `10.0.0.${p + 1}`;
}

/** Node i's block affinities: raw IPAM keys, stored the same way in both models. */
function addAffinities(kv, i) {
  const node = nodeName(i);
  for (let k = 0; k < BLOCKS_V4; k++) kv[`/calico/ipam/v2/host/${node}/ipv4/block/${blockV4(i, k)}`] = '{"state":"confirmed"}';
  for (let k = 0; k < BLOCKS_V6; k++) kv[`/calico/ipam/v2/host/${node}/ipv6/block/${blockV6(i, k)}`] = '{"state":"confirmed"}';
}

/**
 * The keys of an n-node cluster: per node ip_addr_v4, ip_addr_v6, as_num, network_v4,
 * rr_cluster_id "" and a few block affinities (IPv4 and IPv6); global as_num, loglevel, a full
 * node-to-node mesh, a few global peers, one IPv4 and one IPv6 pool. ~10 keys per node. The IPv4 pool is VXLAN: an IPIP pool would make bird_ipam.cfg set krt_tunnel, which only
 * Calico's BIRD fork knows, and the check_cmd runs stock BIRD 1.6.
 */
export function calicoCluster(n) {
  const kv = {};
  const g = "/calico/bgp/v1/global";
  kv[`${g}/as_num`] = GLOBAL_AS;
  kv[`${g}/loglevel`] = "info";
  kv[`${g}/node_mesh`] = '{"enabled":true}';
  for (let p = 0; p < GLOBAL_PEERS; p++) {
    const ip = globalPeerIPv4(p);
    kv[`${g}/peer_v4/${ip}`] = JSON.stringify({ ip, as_num: PEER_AS, rr_cluster_id: "", password: null, port: 0, keep_next_hop: false });
  }
  kv["/calico/v1/ipam/v4/pool/172.16.0.0-12"] = JSON.stringify({ cidr: "172.16.0.0/12", ipip: "", ipip_mode: "", vxlan_mode: "Always", masquerade: true, ipam: true, disabled: false });
  kv["/calico/v1/ipam/v6/pool/fd00::-48"] = JSON.stringify({ cidr: "fd00::/48", ipip: "", ipip_mode: "", vxlan_mode: "", masquerade: false, ipam: true, disabled: false });
  for (let i = 0; i < n; i++) {
    const h = `/calico/bgp/v1/host/${nodeName(i)}`;
    kv[`${h}/ip_addr_v4`] = nodeIPv4(i);
    kv[`${h}/ip_addr_v6`] = nodeIPv6(i);
    kv[`${h}/as_num`] = GLOBAL_AS;
    kv[`${h}/network_v4`] = `${nodeNetworkV4(i)}/16`;
    kv[`${h}/rr_cluster_id`] = "";
    addAffinities(kv, i);
  }
  return kv;
}

/**
 * A v3 resource as libcalico-go v3.16 stores it: compact JSON in Go's field order; uid a
 * version-1 style UUID and creationTimestamp one second apart per object (nothing derives from them).
 */
function v3Resource(kind, name, seq, spec, status) {
  const uid = `${seq.toString(16).padStart(8, "0")}-9d7d-11eb-8000-02425f000001`;
  const creationTimestamp = new Date(Date.UTC(2021, 3, 15) + seq * 1000).toISOString().replace(".000Z", "Z");
  const resource = { kind, apiVersion: "projectcalico.org/v3", metadata: { name, uid, creationTimestamp }, spec };
  if (status !== undefined) resource.status = status;
  return JSON.stringify(resource);
}

/** The objects written before the nodes, in v3 form; node i is object V3_NODE_SEQ + i. */
const V3_NODE_SEQ = 16;

/**
 * Node i in v3 form (the etcd key and its value); `ipv4` (a.b.c.d) replaces its address, with the
 * same /16. The AS is on every node, as calicoCluster's per-host as_num has it: without it Calico
 * derives no host as_num key.
 */
export function nodeV3(i, { ipv4 = nodeIPv4(i) } = {}) {
  const bgp = { asNumber: Number(GLOBAL_AS), ipv4Address: `${ipv4}/16`, ipv6Address: `${nodeIPv6(i)}/64` };
  return { key: `${V3}/nodes/${nodeName(i)}`, value: v3Resource("Node", nodeName(i), V3_NODE_SEQ + i, { bgp }, {}) };
}

/**
 * The cluster of calicoCluster(n) in Calico v3.16's etcd datastore: a Node per node, BGPConfiguration
 * default (AS, log level and mesh set explicitly, as calicoCluster's global keys have them), a
 * global BGPPeer per global peer, the two IPPools as libcalico stores them after defaulting, the
 * ClusterInformation and FelixConfiguration every cluster has (not read by the derivation), and
 * the same block affinities. Its derived v1 view renders the same files as calicoCluster(n).
 */
export function calicoClusterV3(n) {
  const kv = {};
  let seq = 0;
  kv[`${V3}/clusterinformations/default`] = v3Resource("ClusterInformation", "default", seq++, { clusterGUID: "5d1c6a8e0f2b4c3d9e7a6b5c4d3e2f10", datastoreReady: true });
  kv[`${V3}/felixconfigurations/default`] = v3Resource("FelixConfiguration", "default", seq++, { vxlanEnabled: true });
  kv[`${V3}/bgpconfigurations/default`] = v3Resource("BGPConfiguration", "default", seq++, { logSeverityScreen: "Info", nodeToNodeMeshEnabled: true, asNumber: Number(GLOBAL_AS) });
  for (let p = 0; p < GLOBAL_PEERS; p++) {
    kv[`${V3}/bgppeers/bgppeer-${p + 1}`] = v3Resource("BGPPeer", `bgppeer-${p + 1}`, seq++, { peerIP: globalPeerIPv4(p), asNumber: Number(PEER_AS) });
  }
  kv[`${V3}/ippools/default-ipv4-ippool`] = v3Resource("IPPool", "default-ipv4-ippool", seq++, {
    cidr: "172.16.0.0/12",
    vxlanMode: "Always",
    ipipMode: "Never",
    natOutgoing: true,
    blockSize: 26,
    nodeSelector: "all()",
  });
  kv[`${V3}/ippools/default-ipv6-ippool`] = v3Resource("IPPool", "default-ipv6-ippool", seq++, { cidr: "fd00::/48", vxlanMode: "Never", ipipMode: "Never", blockSize: 122, nodeSelector: "all()" });
  if (seq > V3_NODE_SEQ) throw new Error("cluster.mjs: V3_NODE_SEQ is too small");
  for (let i = 0; i < n; i++) {
    const { key, value } = nodeV3(i);
    kv[key] = value;
    addAffinities(kv, i);
  }
  return kv;
}

/** Put every key, in transactions of `opsPerTxn` (etcd's limit is 128), `parallel` at a time. */
export async function loadKeys(client, kv, { opsPerTxn = 128, parallel = 8 } = {}) {
  const entries = Object.entries(kv);
  const batches = [];
  for (let i = 0; i < entries.length; i += opsPerTxn) batches.push(entries.slice(i, i + opsPerTxn));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++];
      await putBatch(client, batch);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

async function putBatch(client, batch) {
  // A raw transaction without comparisons: every put applies, at one revision.
  await client.kv.txn({ compare: [], success: batch.map(([key, value]) => ({ request_put: { key: Buffer.from(key), value: Buffer.from(value) } })), failure: [] });
}

/** Delete everything under `prefix`. */
export async function wipe(client, prefix) {
  await client.delete().prefix(prefix).exec();
}
