// Where a V8 heap snapshot's memory goes: self sizes by kind of object, and the retained size
// (what would be freed with it: its dominator subtree, weak edges ignored) of the instances of
// named classes and of the largest single objects.
import { readFile } from "node:fs/promises";

/** Parse a .heapsnapshot into flat arrays. */
function parse(text) {
  const json = JSON.parse(text);
  const meta = json.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const count = json.nodes.length / nf;
  const f = (name) => meta.node_fields.indexOf(name);
  const [typeF, nameF, sizeF, edgeCountF] = [f("type"), f("name"), f("self_size"), f("edge_count")];
  const type = new Uint8Array(count);
  const name = new Uint32Array(count);
  const size = new Float64Array(count);
  const firstEdge = new Uint32Array(count + 1);
  for (let i = 0, e = 0; i < count; i++) {
    type[i] = json.nodes[i * nf + typeF];
    name[i] = json.nodes[i * nf + nameF];
    size[i] = json.nodes[i * nf + sizeF];
    firstEdge[i] = e;
    e += json.nodes[i * nf + edgeCountF];
    firstEdge[i + 1] = e;
  }
  const edgeCount = json.edges.length / ef;
  const edgeTo = new Uint32Array(edgeCount);
  const edgeWeak = new Uint8Array(edgeCount);
  const weak = edgeTypes.indexOf("weak");
  const toF = meta.edge_fields.indexOf("to_node");
  const etF = meta.edge_fields.indexOf("type");
  for (let e = 0; e < edgeCount; e++) {
    edgeTo[e] = json.edges[e * ef + toF] / nf;
    edgeWeak[e] = json.edges[e * ef + etF] === weak ? 1 : 0;
  }
  return { count, type, name, size, firstEdge, edgeTo, edgeWeak, nodeTypes, strings: json.strings };
}

/** Immediate dominators (Cooper, Harvey and Kennedy's iteration over reverse postorder), root = node 0. */
function dominators(g) {
  const { count, firstEdge, edgeTo, edgeWeak } = g;
  const order = new Int32Array(count).fill(-1); // postorder number
  const post = [];
  const stack = [0];
  const next = new Uint32Array(count);
  const seen = new Uint8Array(count);
  seen[0] = 1;
  for (let i = 0; i < count; i++) next[i] = firstEdge[i];
  while (stack.length > 0) {
    const n = stack[stack.length - 1];
    if (next[n] < firstEdge[n + 1]) {
      const e = next[n]++;
      const to = edgeTo[e];
      if (edgeWeak[e] || seen[to]) continue;
      seen[to] = 1;
      stack.push(to);
    } else {
      stack.pop();
      order[n] = post.length;
      post.push(n);
    }
  }
  const preds = new Map();
  for (let n = 0; n < count; n++) {
    if (!seen[n]) continue;
    for (let e = firstEdge[n]; e < firstEdge[n + 1]; e++) {
      const to = edgeTo[e];
      if (edgeWeak[e] || !seen[to]) continue;
      let list = preds.get(to);
      if (list === undefined) preds.set(to, (list = []));
      list.push(n);
    }
  }
  const idom = new Int32Array(count).fill(-1);
  idom[0] = 0;
  const intersect = (a, b) => {
    while (a !== b) {
      while (order[a] < order[b]) a = idom[a];
      while (order[b] < order[a]) b = idom[b];
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = post.length - 2; i >= 0; i--) {
      const n = post[i];
      let d = -1;
      for (const p of preds.get(n) ?? []) {
        if (idom[p] === -1) continue;
        d = d === -1 ? p : intersect(p, d);
      }
      if (d !== -1 && idom[n] !== d) {
        idom[n] = d;
        changed = true;
      }
    }
  }
  // Retained sizes: each node's own plus its dominated nodes', children before parents.
  const retained = Float64Array.from(g.size);
  for (const n of post) if (n !== 0 && idom[n] >= 0) retained[idom[n]] += retained[n];
  return { idom, retained, reachable: seen };
}

const MB = (bytes) => Math.round(bytes / 1e5) / 10;

/**
 * {totalMB, byKind: {kind: MB}, classes: [{name, count, retainedMB}], largest: [{kind, name, retainedMB}]}
 * for the snapshot in `file`; `classes` names the constructors whose instances are summed.
 */
export async function summarizeHeapSnapshot(file, classes) {
  const g = parse(await readFile(file, "utf8"));
  const { retained, reachable, idom } = dominators(g);
  const kindOf = (n) => g.nodeTypes[g.type[n]];
  const nameOf = (n) => g.strings[g.name[n]];
  const byKind = {};
  let total = 0;
  for (let n = 0; n < g.count; n++) {
    if (!reachable[n]) continue;
    total += g.size[n];
    byKind[kindOf(n)] = (byKind[kindOf(n)] ?? 0) + g.size[n];
  }
  const wanted = new Map(classes.map((c) => [c, { name: c, count: 0, retained: 0 }]));
  for (let n = 0; n < g.count; n++) {
    const w = reachable[n] && kindOf(n) === "object" ? wanted.get(nameOf(n)) : undefined;
    if (w === undefined) continue;
    // An instance held by another instance of its own class is counted once, in its holder.
    let held = false;
    for (let d = idom[n]; d > 0 && !held; d = idom[d]) held = kindOf(d) === "object" && nameOf(d) === nameOf(n);
    w.count++;
    if (!held) w.retained += retained[n];
  }
  const largest = [];
  for (let n = 1; n < g.count; n++) {
    if (!reachable[n] || retained[n] < 200_000 || kindOf(n) === "synthetic") continue;
    largest.push({ kind: kindOf(n), name: nameOf(n).slice(0, 60), retainedMB: MB(retained[n]), selfMB: MB(g.size[n]) });
  }
  largest.sort((a, b) => b.retainedMB - a.retainedMB);
  return {
    totalMB: MB(total),
    byKind: Object.fromEntries(Object.entries(byKind).sort(([, a], [, b]) => b - a).map(([k, v]) => [k, MB(v)])),
    classes: [...wanted.values()].map((w) => ({ name: w.name, count: w.count, retainedMB: MB(w.retained) })),
    largest: largest.slice(0, 40),
  };
}
