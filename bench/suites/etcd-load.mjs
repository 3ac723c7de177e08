// etcd load in steady state: Range requests and bytes etcd sends per change, from etcd's own
// /metrics, with `perch watch` running — against a baseline of the same puts with no daemon (the
// bench's own put responses), and against a confd-style re-read, which is a MODEL, not a
// measurement of confd: one Range per affected resource per change, each as large as a full read
// of that resource's keys (that size is measured, by doing such a read once per resource).
import { rm } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CONFIG_DIR, makeChange, putChange, watchDir } from "../lib/changes.mjs";
import { metricSum } from "../lib/etcd.mjs";
import { REPO, startWatch } from "../lib/perch.mjs";
import { mean, round } from "../lib/stats.mjs";
import { tempDir } from "../lib/confdirs.mjs";

const RANGE = { grpc_method: "Range" };
const SENT = "etcd_network_client_grpc_sent_bytes_total";

async function etcdCounters(etcd) {
  const m = await etcd.metrics();
  return { ranges: metricSum(m, "grpc_server_handled_total", RANGE), sentBytes: metricSum(m, SENT) };
}

function diff(a, b) {
  return { ranges: b.ranges - a.ranges, sentBytes: b.sentBytes - a.sentBytes };
}

async function series(ctx, size, count, afterPut) {
  const client = ctx.etcd.client();
  const kinds = [];
  for (let i = 0; i < count; i++) {
    const change = makeChange(ctx.nextChange(), size);
    kinds.push(change);
    await putChange(client, change);
    await afterPut(change);
  }
  return kinds;
}

export async function measureEtcdLoad(ctx, { size, changes }) {
  const etcd = ctx.etcd;
  // 1. Baseline: the same kind of puts with no watcher: what the bench's own client costs.
  await sleep(200);
  const b0 = await etcdCounters(etcd);
  await series(ctx, size, changes, () => sleep(10));
  const baseline = diff(b0, await etcdCounters(etcd));

  // 2. With perch watch running (shipped conf.d, default wait), each change rendered before the next.
  const root = await tempDir("root");
  const w = await startWatch(["--confdir", REPO, "--endpoints", etcd.clientUrl, "--node-name", ctx.localNode, "--root", root, "--sync-only"]);
  let dir;
  let withDaemon;
  let startup;
  try {
    const s0 = await etcdCounters(etcd);
    await w.waitEvent((e) => e.event === "pass", { timeoutMs: 120_000 });
    await sleep(1000);
    const d0 = await etcdCounters(etcd);
    startup = diff(s0, d0);
    dir = await watchDir(path.join(root, CONFIG_DIR));
    await series(ctx, size, changes, async (change) => {
      await dir.waitFor(change.file, (c) => c.includes(change.needle));
      await sleep(10);
    });
    await sleep(1000);
    withDaemon = diff(d0, await etcdCounters(etcd));
  } finally {
    await dir?.close();
    await w.stop();
    await rm(root, { recursive: true, force: true });
  }

  // 3. The confd-style model: which resources a change touches, and what re-reading them costs.
  const { loadResourceSet } = await import(`${REPO}/dist/resource/load-set.js`);
  const resources = await loadResourceSet({ confdir: REPO, nodeName: ctx.localNode });
  const touches = (r, key) => r.paths.some((p) => key === p || key.startsWith(p.endsWith("/") ? p : `${p}/`));
  const readBytes = new Map();
  const client = etcd.client();
  for (const r of resources) {
    const r0 = await etcdCounters(etcd);
    for (const p of r.paths) await client.getAll().prefix(p.endsWith("/") ? p : `${p}/`).strings();
    readBytes.set(r.name, (await etcdCounters(etcd)).sentBytes - r0.sentBytes);
  }
  const sample = Array.from({ length: 2 }, (_, i) => makeChange(i, size));
  const model = {};
  for (const change of sample) {
    const hit = resources.filter((r) => touches(r, change.key));
    model[change.kind] = {
      resources: hit.map((r) => r.name),
      rangesPerChange: hit.length,
      bytesPerChange: hit.reduce((a, r) => a + readBytes.get(r.name), 0),
    };
  }
  const result = {
    size,
    changes,
    baselineNoDaemon: { rangesPerChange: round(baseline.ranges / changes, 2), bytesPerChange: round(baseline.sentBytes / changes, 0) },
    withDaemon: { rangesPerChange: round(withDaemon.ranges / changes, 2), bytesPerChange: round(withDaemon.sentBytes / changes, 0) },
    daemonOnly: {
      rangesPerChange: round((withDaemon.ranges - baseline.ranges) / changes, 2),
      bytesPerChange: round((withDaemon.sentBytes - baseline.sentBytes) / changes, 0),
    },
    daemonStartup: startup,
    confdModel: {
      byKind: model,
      rangesPerChange: mean(Object.values(model).map((m) => m.rangesPerChange)),
      bytesPerChange: round(mean(Object.values(model).map((m) => m.bytesPerChange)), 0),
      readBytesByResource: Object.fromEntries(readBytes),
    },
  };
  ctx.log(
    `  etcd load ${size} nodes: ${result.withDaemon.rangesPerChange} Range/change, ${result.daemonOnly.bytesPerChange} B/change sent for perch (confd model: ${result.confdModel.rangesPerChange} Range, ${result.confdModel.bytesPerChange} B)`,
  );
  return result;
}
