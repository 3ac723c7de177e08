/**
 * The Nodes, indexed for the peering computation so that a change costs what it touches, not the
 * cluster's size: names in order, names by address, and the names each BGPPeer selector matches,
 * kept up to date one Node at a time.
 */
import type { NodeRecord } from "../resources.js";
import type { Selector } from "../selector.js";

export class NodeIndex {
  private readonly nodes = new Map<string, NodeRecord>();
  private sorted: string[] | undefined;
  private readonly byAddress = new Map<string, Set<string>>();
  /** Per selector (by its text): the names it matches. */
  private readonly selections = new Map<string, { selector: Selector; names: Set<string>; sorted?: string[] }>();

  get(name: string): NodeRecord | undefined {
    return this.nodes.get(name);
  }

  /** Put (or, with undefined, delete) one Node; true when what a peering reads of it changed. */
  set(name: string, node: NodeRecord | undefined): boolean {
    const previous = this.nodes.get(name);
    if (previous === undefined && node === undefined) return false;
    if (previous !== undefined) {
      for (const ip of addresses(previous)) this.byAddress.get(ip)?.delete(name);
    }
    if (node === undefined) this.nodes.delete(name);
    else {
      this.nodes.set(name, node);
      for (const ip of addresses(node)) {
        let names = this.byAddress.get(ip);
        if (names === undefined) this.byAddress.set(ip, (names = new Set()));
        names.add(name);
      }
    }
    if ((previous === undefined) !== (node === undefined)) this.sorted = undefined;
    for (const selection of this.selections.values()) {
      const matches = node !== undefined && selection.selector.matches(node.labels);
      if (matches === selection.names.has(name)) continue;
      if (matches) selection.names.add(name);
      else selection.names.delete(name);
      selection.sorted = undefined;
    }
    return previous === undefined || node === undefined || !samePeeringFields(previous, node);
  }

  clear(): void {
    this.nodes.clear();
    this.byAddress.clear();
    this.selections.clear();
    this.sorted = undefined;
  }

  /** Every node name, in order. */
  names(): readonly string[] {
    return (this.sorted ??= [...this.nodes.keys()].sort());
  }

  /** The names of the nodes with this address (IPv4 or IPv6), in order. */
  namesAt(ip: string): string[] {
    return [...(this.byAddress.get(ip) ?? [])].sort();
  }

  /** The names a selector matches, in order; the first use of a selector evaluates it over every node. */
  matching(selector: Selector): readonly string[] {
    let selection = this.selections.get(selector.source);
    if (selection === undefined) {
      const names = new Set([...this.nodes.values()].filter((n) => selector.matches(n.labels)).map((n) => n.name));
      selection = { selector, names };
      this.selections.set(selector.source, selection);
    }
    return (selection.sorted ??= [...selection.names].sort());
  }

  /** Stop maintaining the selections no BGPPeer uses any more. */
  retainSelectors(sources: ReadonlySet<string>): void {
    for (const source of this.selections.keys()) if (!sources.has(source)) this.selections.delete(source);
  }
}

function addresses(node: NodeRecord): string[] {
  const out: string[] = [];
  if (node.ipv4 !== undefined) out.push(node.ipv4.ip);
  if (node.ipv6 !== undefined) out.push(node.ipv6.ip);
  return out;
}

/** What the peering computation reads of a Node: its labels, addresses, AS number and cluster id. */
function samePeeringFields(a: NodeRecord, b: NodeRecord): boolean {
  if (a.ipv4?.ip !== b.ipv4?.ip || a.ipv6?.ip !== b.ipv6?.ip || a.asNumber !== b.asNumber || a.rrClusterId !== b.rrClusterId) return false;
  const keys = Object.keys(a.labels);
  return keys.length === Object.keys(b.labels).length && keys.every((k) => Object.hasOwn(b.labels, k) && a.labels[k] === b.labels[k]);
}
