/**
 * Node → v1 host keys (libcalico-go's bgpnodeprocessor): the addresses and the route-reflector
 * cluster id always (empty when unset), the networks and the AS number only when set.
 */
import type { NodeRecord } from "../resources.js";
import { hostKey, type KeyMap } from "./v1-keys.js";

export function nodeKeys(node: NodeRecord): KeyMap {
  const keys: KeyMap = new Map();
  keys.set(hostKey(node.name, "ip_addr_v4"), node.ipv4?.ip ?? "");
  keys.set(hostKey(node.name, "ip_addr_v6"), node.ipv6?.ip ?? "");
  keys.set(hostKey(node.name, "rr_cluster_id"), node.rrClusterId);
  if (node.ipv4 !== undefined) keys.set(hostKey(node.name, "network_v4"), node.ipv4.network);
  if (node.ipv6 !== undefined) keys.set(hostKey(node.name, "network_v6"), node.ipv6.network);
  if (node.asNumber !== undefined) keys.set(hostKey(node.name, "as_num"), String(node.asNumber));
  return keys;
}
