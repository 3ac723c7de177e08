// Footprint: what `perch watch` costs a node while it sits there. Steady RSS and VmHWM with the
// shipped set at 100, 1,000 and 5,000 nodes and over 100,000 keys, after a fixed series of changes;
// then CPU time and wakeups over an idle window, by thread.
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CONFIG_DIR, makeChange, settleThroughChanges } from "../lib/changes.mjs";
import { calicoCluster, loadKeys, wipe } from "../lib/cluster.mjs";
import { tempDir } from "../lib/confdirs.mjs";
import { REPO, startWatch } from "../lib/perch.mjs";
import { summarizeHeapSnapshot } from "../lib/heap-snapshot.mjs";
import { idleActivity, memoryOf } from "../lib/proc-stats.mjs";
import { round } from "../lib/stats.mjs";
import { loadScale, SCALE_PREFIX } from "./scale.mjs";

const SIZES = [100, 1000, 5000];
/** Changes made before the steady figures: enough for every memo and buffer to have been used again. */
const CHANGES = 20;
const SCALE_CONFDIR = path.join(import.meta.dirname, "..", "scale");

/** The classes whose instances' retained heap the breakdown names: the daemon, and of what it holds the mirror, its views and the memos. */
const HEAP_CLASSES = ["Daemon", "Mirror", "KeyIndex", "RenderMemo"];

/** KiB (as /proc reports) to MB (10^6 bytes). */
const mb = (kib) => round((kib * 1024) / 1e6, 1);

/** The V8 heap and Node's external memory, from the daemon's own /metrics (read after the idle window). */
function heapFigures(samples) {
  const sum = (suffix, labels = {}) =>
    samples.filter((s) => s.name.endsWith(suffix) && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((t, s) => t + s.value, 0);
  const spaces = {};
  for (const s of samples) if (s.name.endsWith("nodejs_heap_space_size_used_bytes")) spaces[s.labels.space] = round(s.value / 1e6, 1);
  return {
    heapUsedMB: round(sum("nodejs_heap_size_used_bytes") / 1e6, 1),
    heapTotalMB: round(sum("nodejs_heap_size_total_bytes") / 1e6, 1),
    externalMB: round(sum("nodejs_external_memory_bytes") / 1e6, 1),
    heapSpacesUsedMB: spaces,
  };
}

/**
 * One `perch watch` (`args`, with a fresh --root): RSS after the first pass; `CHANGES` changes
 * (`change(i)`: {key, value, file, needle}, each waited for in `watchedDir`); RSS and VmHWM 3 s
 * after the last; then an idle window of `ctx.footprintIdleMs` (CPU seconds, wakeups) and the
 * RSS at its end — or, with `heapSnapshot`, instead of the idle window a heap snapshot, summarized.
 */
export async function footprintRun(ctx, { argsFor, watchedDir, change, listen = true, nodeArgs = [], heapSnapshot = false }) {
  const root = await tempDir("root");
  const snapshotDir = heapSnapshot ? await tempDir("heap") : undefined;
  const snapshotArgs = heapSnapshot ? ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${snapshotDir}`] : [];
  const w = await startWatch(argsFor(root), { listen, nodeArgs: [...nodeArgs, ...snapshotArgs] });
  try {
    await w.waitEvent((e) => e.event === "pass", { timeoutMs: 120_000 });
    const afterSync = await memoryOf(w.pid);
    await settleThroughChanges(ctx.etcd.client(), path.join(root, watchedDir), CHANGES, change);
    const steady = await memoryOf(w.pid);
    const idle = heapSnapshot ? undefined : await idleActivity(w.pid, ctx.footprintIdleMs, sleep);
    const afterIdle = await memoryOf(w.pid);
    const heap = listen ? heapFigures(await w.metrics()) : undefined;
    const snapshot = heapSnapshot ? await takeHeapSnapshot(w.pid, snapshotDir) : undefined;
    return {
      listen,
      rssAfterSyncMB: mb(afterSync.rssKiB),
      steadyRssMB: mb(steady.rssKiB),
      steadyAnonMB: mb(steady.anonKiB),
      steadyFileMB: mb(steady.fileKiB),
      peakRssMB: mb(steady.hwmKiB),
      rssAfterIdleMB: mb(afterIdle.rssKiB),
      idle,
      heap,
      snapshot,
    };
  } finally {
    await w.stop();
    await rm(root, { recursive: true, force: true });
    if (snapshotDir) await rm(snapshotDir, { recursive: true, force: true });
  }
}

/** SIGUSR2 (--heapsnapshot-signal): wait until the snapshot file stops growing, then summarize it. */
async function takeHeapSnapshot(pid, dir) {
  process.kill(pid, "SIGUSR2");
  let last = -1;
  for (let waited = 0; waited < 60_000; waited += 500) {
    await sleep(500);
    const [name] = (await readdir(dir)).filter((f) => f.endsWith(".heapsnapshot"));
    if (name === undefined) continue;
    const { size } = await stat(path.join(dir, name));
    if (size === last && size > 0) return summarizeHeapSnapshot(path.join(dir, name), HEAP_CLASSES);
    last = size;
  }
  throw new Error("no heap snapshot within 60 s");
}

/** bench/lib/footprint-stages.mjs against the cluster in etcd: the daemon's parts' memory, one at a time. */
async function memoryByStage(ctx, size) {
  const root = await tempDir("root");
  try {
    const script = path.join(import.meta.dirname, "..", "lib", "footprint-stages.mjs");
    const args = ["--expose-gc", "--semi-space-growth-factor=1", script, ctx.etcd.clientUrl, REPO, root, ctx.localNode, String(size)];
    const { stdout } = await promisify(execFile)(process.execPath, args, { encoding: "utf8" });
    return JSON.parse(stdout).map((s) => ({ stage: s.stage, heapUsedMB: round(s.heapUsedMB, 1), heapTotalMB: round(s.heapTotalMB, 1), externalMB: round(s.externalMB, 1), rssMB: round(s.rssMB, 1) }));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** RSS of a Node process that loads nothing and waits: what every Node daemon starts from. */
async function bareNodeMemory() {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
  try {
    await sleep(1500);
    return memoryFigures(await memoryOf(child.pid));
  } finally {
    child.kill("SIGKILL");
  }
}

/**
 * RSS of Node with the etcd client the daemon uses, a client made and one watch open
 * (bench/lib/etcd-client-floor.mjs), on a prefix nothing writes to: the floor under perch's own share.
 */
async function etcdClientFloorMemory(ctx) {
  const script = path.join(import.meta.dirname, "..", "lib", "etcd-client-floor.mjs");
  const child = spawn(process.execPath, [script, ctx.etcd.clientUrl, "/perch-bench-floor/"], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    await new Promise((resolve, reject) => {
      child.stdout.setEncoding("utf8").on("data", (c) => c.includes("watching") && resolve());
      child.once("exit", (code) => reject(new Error(`etcd-client-floor.mjs exited (${code}) before its watch was open`)));
    });
    await sleep(1500);
    return memoryFigures(await memoryOf(child.pid));
  } finally {
    child.kill("SIGKILL");
  }
}

const memoryFigures = (m) => ({ rssMB: mb(m.rssKiB), anonMB: mb(m.anonKiB), fileMB: mb(m.fileKiB) });

export function calicoRun(ctx, size, { listen = true, nodeArgs = [], heapSnapshot = false } = {}) {
  return footprintRun(ctx, {
    argsFor: (root) => ["--confdir", REPO, "--endpoints", ctx.etcd.clientUrl, "--node-name", ctx.localNode, "--root", root, "--sync-only"],
    watchedDir: CONFIG_DIR,
    // Remote nodes' address changes: each re-renders the full mesh (bird.cfg) and bird6.cfg.
    change: () => makeChange(ctx.nextChange(), size, "ip"),
    listen,
    nodeArgs,
    heapSnapshot,
  });
}

function scaleRun(ctx) {
  return footprintRun(ctx, {
    argsFor: (root) => ["--confdir", SCALE_CONFDIR, "--endpoints", ctx.etcd.clientUrl, "--node-name", ctx.localNode, "--root", root, "--sync-only"],
    watchedDir: "scale",
    change: () => {
      const value = JSON.stringify({ host: "h-00042", k: 3, change: ctx.nextChange() });
      return { key: `${SCALE_PREFIX}/hosts/h-00042/k3`, value, file: "summary.txt", needle: value };
    },
  });
}

function describe(label, r, floor) {
  return `  footprint ${label}: perch's share ${round(r.steadyRssMB - floor.rssMB, 1)} MB above Node + the etcd client (${floor.rssMB} MB); RSS after sync ${r.rssAfterSyncMB} MB, steady ${r.steadyRssMB} MB (HWM ${r.peakRssMB} MB), after idle ${r.rssAfterIdleMB} MB; idle ${r.idle.seconds} s: ${r.idle.cpuSeconds} s CPU, ${r.idle.wakeupsPerSecond} wakeups/s ${JSON.stringify(r.idle.wakeupsByThread)}`;
}

export async function measureFootprint(ctx) {
  const client = ctx.etcd.client();
  const result = { changes: CHANGES, idleSeconds: ctx.footprintIdleMs / 1000, calico: {}, bareNode: await bareNodeMemory(), etcdClientFloor: await etcdClientFloorMemory(ctx) };
  for (const size of SIZES) {
    await wipe(client, "/calico/");
    await loadKeys(client, calicoCluster(size));
    await sleep(2000);
    result.calico[size] = await calicoRun(ctx, size);
    ctx.log(describe(`${size} nodes`, result.calico[size], result.etcdClientFloor));
    if (size === 1000) {
      // The daemon as confd runs: no status server, no metrics.
      result.withoutListen1000 = await calicoRun(ctx, size, { listen: false });
      ctx.log(describe(`${size} nodes without --listen`, result.withoutListen1000, result.etcdClientFloor));
      // A run of its own: writing the snapshot grows the process, and must not touch the figures above.
      result.heapSnapshot1000 = (await calicoRun(ctx, size, { heapSnapshot: true })).snapshot;
      result.stages1000 = await memoryByStage(ctx, size);
    }
  }
  await wipe(client, "/calico/");
  result.scaleKeys = await loadScale(ctx);
  result.scale = await scaleRun(ctx);
  ctx.log(describe(`${result.scaleKeys} keys`, result.scale, result.etcdClientFloor));
  await wipe(client, `${SCALE_PREFIX}/`);
  return result;
}
