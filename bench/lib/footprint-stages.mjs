// Where a daemon's memory goes, stage by stage: run by the footprint suite as
// `node --expose-gc --semi-space-growth-factor=1 bench/lib/footprint-stages.mjs <etcd URL> <confdir> <root> <node> <nodes>`,
// it builds what `perch watch` builds, from dist/ (tsc's output, the modules the bundle is made of), one part at a time:
// the daemon's modules, the logger, the metrics, the etcd client, the compiled templates, the mirror
// after the listing, the first pass (memos and retained outputs), then changes applied and rendered. After each,
// a full garbage collection, then the V8 heap in use and committed (what V8 holds from the system for it),
// external memory and the RSS. Prints one JSON line.
/* global gc */
import { readFileSync } from "node:fs";
import { makeChange } from "./changes.mjs";

const [url, confdir, root, nodeName, nodes] = process.argv.slice(2);
const CHANGES = 20;

function measure(stage) {
  gc();
  gc();
  const m = process.memoryUsage();
  const status = readFileSync("/proc/self/status", "utf8");
  const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)[1]);
  return { stage, heapUsedMB: m.heapUsed / 1e6, heapTotalMB: m.heapTotal / 1e6, externalMB: m.external / 1e6, rssMB: (rssKiB * 1024) / 1e6 };
}

const dist = new URL("../../dist/", import.meta.url);
const stages = [measure("node")];
// watch-command.js: the modules `perch watch` loads with its command (the daemon, metrics, the store's entrance).
const [, { Metrics }, { createLogger }, { openEtcdStore }, { loadResourceSet }, { Mirror }, { RenderMemo }, { syncResources }] = await Promise.all(
  ["cli/watch-command.js", "watch/metrics.js", "log/logger.js", "store/etcd/index.js", "resource/load-set.js", "mirror/mirror.js", "template/memo.js", "sync/sync-resources.js"].map((m) => import(new URL(m, dist).href)),
);
stages.push(measure("modules"));
const { logger } = await createLogger({ level: "warn", kind: "daemon", format: "json" });
stages.push(measure("logger"));
const metrics = new Metrics("bench");
stages.push(measure("metrics"));
const store = await openEtcdStore({ endpoints: [url] }, "watching");
stages.push(measure("etcd client"));
const resources = await loadResourceSet({ confdir, nodeName, root });
stages.push(measure("templates"));
const mirror = new Mirror(resources.map((r) => r.selection));
const snapshot = await store.list(mirror.watchPrefixes());
mirror.replace(snapshot.kvs, snapshot.revision);
stages.push(measure("mirror"));
const memos = new Map(resources.map((r) => [r.name, new RenderMemo(mirror.view(r.name))]));
const pass = { noop: false, diff: false, env: { NODENAME: nodeName }, logger, syncOnly: true, createDirs: true, memoFor: (name) => memos.get(name) };
await syncResources(resources, mirror, pass);
stages.push(measure("first pass"));
for (let i = 0; i < CHANGES; i++) {
  const c = makeChange(2 * i, Number(nodes), "ip");
  const dirty = mirror.apply([{ type: "put", key: c.key, value: c.value, revision: snapshot.revision + i + 1 }], snapshot.revision + i + 1);
  await syncResources(resources.filter((r) => dirty.has(r.name)), mirror, pass);
}
stages.push(measure("changes"));
metrics.registry.clear();
await store.close();
process.stdout.write(`${JSON.stringify(stages)}\n`);
process.exit(0);
