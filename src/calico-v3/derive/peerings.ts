/**
 * BGPPeer → v1 peerings, as confd's updatePeersV1 computes them: global peers first, then per-node
 * peers (skipped where a global peering to the same address and port exists), then the reverse
 * peerings that make a peering between two Calico nodes symmetric. The first writer of a key wins.
 * Peers and nodes are visited in name order, so the result does not depend on arrival order.
 */
import { goJson } from "../go-json.js";
import type { PeerRecord } from "../resources.js";
import type { NodeIndex } from "./node-index.js";
import { GLOBAL, HOST, type KeyMap } from "./v1-keys.js";

export interface PeeringInputs {
  peers: ReadonlyMap<string, PeerRecord>;
  nodes: NodeIndex;
  globalAsNumber: number;
  /** 0 when unset. */
  globalListenPort: number;
  /** From each `node.<name>` BGPConfiguration that sets one. */
  nodeListenPorts: ReadonlyMap<string, number>;
  /** A Secret's value, decoded; why not, when the Secret or its key is missing. */
  secret(name: string, key: string): { value: string } | { missing: string };
  /** Where a missing Secret is reported (the peering then has no password, as in Calico). */
  problem(message: string): void;
}

interface Peering {
  ip: string;
  family: 4 | 6;
  asNumber: number;
  rrClusterId: string;
  port: number;
  keepNextHop: boolean;
  password: string | null;
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function peeringKeys(input: PeeringInputs): KeyMap {
  const out: KeyMap = new Map();
  if (input.peers.size === 0) return out;
  const peers = [...input.peers.values()].sort(byName);
  const nodes = input.nodes;
  const listenPort = (node: string): number => input.nodeListenPorts.get(node) ?? input.globalListenPort;

  const nodeAsPeerings = (name: string, password: string | null): Peering[] => {
    const node = nodes.get(name);
    if (node === undefined) return [];
    const out: Peering[] = [];
    for (const address of [node.ipv4, node.ipv6]) {
      if (address === undefined) continue;
      out.push({ ip: address.ip, family: address.family, asNumber: node.asNumber ?? input.globalAsNumber, rrClusterId: node.rrClusterId, port: listenPort(name), keepNextHop: false, password });
    }
    return out;
  };

  /** Nodes at this address with this AS (0: the global one), and this port when one was given. */
  const nodesAt = (ip: string, asNumber: number, port: number): string[] => {
    const wanted = asNumber === 0 ? input.globalAsNumber : asNumber;
    return nodes.namesAt(ip).filter((name) => {
      if ((nodes.get(name)?.asNumber ?? input.globalAsNumber) !== wanted) return false;
      if (port === 0) return true;
      // confd's own test: a node's listen port that differs, or else a global one that differs.
      const own = input.nodeListenPorts.get(name);
      if (own !== undefined && own !== port) return false;
      return !(input.globalListenPort !== 0 && input.globalListenPort !== port);
    });
  };

  const passwordOf = (peer: PeerRecord): string | null => {
    if (peer.password === undefined) return null;
    const found = input.secret(peer.password.secret, peer.password.key);
    if ("value" in found) return found.value;
    input.problem(`BGPPeer ${peer.name}: ${found.missing}: its peerings have no password`);
    return null;
  };

  const emit = (localNode: string | undefined, p: Peering): void => {
    const leaf = `peer_v${p.family}/${p.ip}${p.port === 0 || p.port === 179 ? "" : `-${p.port}`}`;
    const key = localNode === undefined ? `${GLOBAL}/${leaf}` : `${HOST}/${localNode}/${leaf}`;
    if (out.has(key)) return;
    if (localNode !== undefined && out.has(`${GLOBAL}/${leaf}`)) return;
    out.set(key, goJson({ ip: p.ip, as_num: String(p.asNumber), rr_cluster_id: p.rrClusterId, password: p.password, port: p.port, keep_next_hop: p.keepNextHop }));
  };

  const passwords = new Map(peers.map((peer) => [peer.name, passwordOf(peer)]));
  for (const globalPass of [true, false]) {
    for (const peer of peers) {
      if (globalPass !== (peer.node === undefined && peer.nodeSelector === undefined)) continue;
      const password = passwords.get(peer.name) ?? null;
      const localNodes = peer.nodeSelector !== undefined ? nodes.matching(peer.nodeSelector) : peer.node !== undefined ? [peer.node] : [];
      let remotes: Peering[];
      if (peer.peerSelector !== undefined) remotes = nodes.matching(peer.peerSelector).flatMap((name) => nodeAsPeerings(name, password));
      else if (peer.peerAddress !== undefined) {
        const { ip, family } = peer.peerAddress;
        let port = peer.peerAddress.port;
        if (port === 0) {
          const [first] = nodesAt(ip, peer.asNumber, 0);
          if (first !== undefined) port = listenPort(first);
        }
        remotes = [{ ip, family, asNumber: peer.asNumber, rrClusterId: "", port, keepNextHop: peer.keepOriginalNextHop, password }];
      } else remotes = [];
      for (const remote of remotes) {
        if (globalPass) emit(undefined, remote);
        else for (const local of localNodes) emit(local, remote);
      }
    }
  }

  // Reverse: the nodes on a peer's remote side peer back with every node on its local side.
  for (const peer of peers) {
    const address = peer.peerAddress;
    const localNodes = peer.peerSelector !== undefined ? nodes.matching(peer.peerSelector) : address !== undefined ? nodesAt(address.ip, peer.asNumber, address.port) : [];
    if (localNodes.length === 0) continue;
    const remoteNodes = peer.nodeSelector !== undefined ? nodes.matching(peer.nodeSelector) : peer.node !== undefined ? [peer.node] : nodes.names();
    const password = passwords.get(peer.name) ?? null;
    for (const remoteNode of remoteNodes) {
      for (const remote of nodeAsPeerings(remoteNode, password)) {
        for (const local of localNodes) emit(local, remote);
      }
    }
  }
  return out;
}
