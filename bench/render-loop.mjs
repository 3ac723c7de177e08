// Profiling aid (not part of `npm run bench`): render one resource of the shipped Calico set from
// a synthetic cluster in memory, in a loop, using the compiled modules in dist/. Run it under
// `node --cpu-prof bench/render-loop.mjs [nodes] [resource] [iterations]` to see where a render's
// time goes without etcd, files or the daemon around it.
import { performance } from "node:perf_hooks";
import { calicoCluster, LOCAL_NODE } from "./lib/cluster.mjs";
import { REPO } from "./lib/perch.mjs";

const { loadResourceSet } = await import(`${REPO}/dist/resource/load-set.js`);
const { Mirror } = await import(`${REPO}/dist/mirror/mirror.js`);
const { renderResource } = await import(`${REPO}/dist/render/render.js`);
const { Provenance } = await import(`${REPO}/dist/template/provenance.js`);

const nodes = Number(process.argv[2] ?? 5000);
const name = process.argv[3] ?? "bird";
const iterations = Number(process.argv[4] ?? 30);

const resources = await loadResourceSet({ confdir: REPO, nodeName: LOCAL_NODE });
const mirror = new Mirror(resources.map((r) => r.selection));
mirror.replace(
  Object.entries(calicoCluster(nodes)).map(([key, value]) => ({ key, value })),
  1,
);
const resource = resources.find((r) => r.name === name);
const env = { ...process.env, NODENAME: LOCAL_NODE };
const times = [];
let bytes = 0;
for (let i = 0; i < iterations; i++) {
  // A change between renders, as in the daemon: one node's address.
  mirror.apply([{ type: "put", key: `/calico/bgp/v1/host/node-00001/ip_addr_v4`, value: `10.250.${i >> 8}.${(i & 255) + 1}`, revision: i + 2 }], i + 2);
  const t = performance.now();
  bytes = renderResource(resource, { view: mirror.view(name), env, provenance: new Provenance() }).length;
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
console.log(`${name} at ${nodes} nodes: ${bytes} bytes; render median ${times[times.length >> 1].toFixed(1)} ms, min ${times[0].toFixed(1)} ms over ${iterations}`);
