/**
 * What `--calico-v3` reads, in one place: the etcd prefixes it lists and watches, what a snapshot
 * saves, and the description `perch check --calico-v3` prints.
 */
import { AFFINITIES_PREFIX, READ_KINDS, RESOURCES_PREFIX } from "./resources.js";

const KIND_PREFIXES = Object.keys(READ_KINDS).map((plural) => `${RESOURCES_PREFIX}${plural}/`);

/**
 * From etcd: the four kinds the derivation uses and this node's block affinities — never workload
 * endpoints or IPAM allocations, so pod churn does not reach perch.
 */
export function etcdSourcePrefixes(nodeName: string): string[] {
  return [...KIND_PREFIXES, `${AFFINITIES_PREFIX}${nodeName}/`];
}

/** From a snapshot file: all of it, so a key under a kind Calico does not have is reported. */
export const FILE_SOURCE_PREFIXES: readonly string[] = [RESOURCES_PREFIX, AFFINITIES_PREFIX];

/** What `perch snapshot --calico-v3` saves: the same kinds, and every node's affinities. */
export const SNAPSHOT_PREFIXES: readonly string[] = [...KIND_PREFIXES, AFFINITIES_PREFIX];

/** Each source and what it becomes in the v1 view (`perch check --calico-v3`). */
export function describeSources(nodeName: string): Array<{ source: string; reads: string; derives: string }> {
  const [nodes, configs, peers, pools] = KIND_PREFIXES as [string, string, string, string];
  return [
    { source: nodes, reads: "Node", derives: "/calico/bgp/v1/host/<node>/{ip_addr_v4,ip_addr_v6,network_v4,network_v6,as_num,rr_cluster_id}" },
    { source: configs, reads: "BGPConfiguration default, node.<node>", derives: "/calico/bgp/v1/global/*, /calico/bgp/v1/host/<node>/{listen_port,loglevel,prefix_advertisements/*}, /calico/staticroutes*, /calico/rejectcidrs*" },
    { source: peers, reads: "BGPPeer", derives: "/calico/bgp/v1/{global,host/<node>}/peer_v4|peer_v6/*" },
    { source: pools, reads: "IPPool", derives: "/calico/v1/ipam/v4|v6/pool/*" },
    { source: `${AFFINITIES_PREFIX}${nodeName}/`, reads: "block affinities of this node", derives: `${AFFINITIES_PREFIX}${nodeName}/ipv4|ipv6/block/*` },
    { source: "--calico-kubernetes FILE", reads: "Secret (BGPPeer passwords), Service, Endpoints (advertised service IPs)", derives: "peerings' password, /calico/staticroutes*/<ip>-32|128" },
  ];
}
