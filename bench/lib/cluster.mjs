// Synthetic Calico clusters in Calico's v1 key model (the key names and value formats of
// ../shared/conformance/calico-v3.16/*/keys.json), and loading them into etcd in batches.
import { Buffer } from "node:buffer";

export const LOCAL_NODE = "node-00000";
export const GLOBAL_AS = "64512";
const BLOCKS_V4 = 3;
const BLOCKS_V6 = 2;
const GLOBAL_PEERS = 3;

export function nodeName(i) {
  return `node-${String(i).padStart(5, "0")}`;
}

/** The node's IPv4 address: unique up to 250 × 250 × 16 nodes, never .0 or .255. */
export function nodeIPv4(i) {
  return `10.${100 + Math.floor(i / 62_500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`;
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
    const ip = `10.0.0.${p + 1}`;
    kv[`${g}/peer_v4/${ip}`] = JSON.stringify({ ip, as_num: "64513", rr_cluster_id: "", password: null, port: 0, keep_next_hop: false });
  }
  kv["/calico/v1/ipam/v4/pool/172.16.0.0-12"] = JSON.stringify({ cidr: "172.16.0.0/12", ipip: "", ipip_mode: "", vxlan_mode: "Always", masquerade: true, ipam: true, disabled: false });
  kv["/calico/v1/ipam/v6/pool/fd00::-48"] = JSON.stringify({ cidr: "fd00::/48", ipip: "", ipip_mode: "", vxlan_mode: "", masquerade: false, ipam: true, disabled: false });
  for (let i = 0; i < n; i++) {
    const node = nodeName(i);
    const h = `/calico/bgp/v1/host/${node}`;
    kv[`${h}/ip_addr_v4`] = nodeIPv4(i);
    kv[`${h}/ip_addr_v6`] = nodeIPv6(i);
    kv[`${h}/as_num`] = GLOBAL_AS;
    kv[`${h}/network_v4`] = `10.${100 + Math.floor(i / 62_500)}.0.0/16`;
    kv[`${h}/rr_cluster_id`] = "";
    for (let k = 0; k < BLOCKS_V4; k++) kv[`/calico/ipam/v2/host/${node}/ipv4/block/${blockV4(i, k)}`] = '{"state":"confirmed"}';
    for (let k = 0; k < BLOCKS_V6; k++) kv[`/calico/ipam/v2/host/${node}/ipv6/block/${blockV6(i, k)}`] = '{"state":"confirmed"}';
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
