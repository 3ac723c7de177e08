// Scale: `perch watch` over 100,000 keys under one watched prefix (bench/scale: one resource whose
// keys cover the prefix, a template that reads a few keys): the initial sync's time and the
// steady RSS afterwards.
import { rm } from "node:fs/promises";
import path from "node:path";
import { settleThroughChanges } from "../lib/changes.mjs";
import { loadKeys, wipe } from "../lib/cluster.mjs";
import { startWatch, timedRun } from "../lib/perch.mjs";
import { profileIn, summarizeProfile } from "../lib/profile.mjs";
import { median, round } from "../lib/stats.mjs";
import { tempDir } from "../lib/confdirs.mjs";

export const SCALE_PREFIX = "/bench/scale";
const CONFDIR = path.join(import.meta.dirname, "..", "scale");
const HOSTS = 10_000;
const PER_HOST = 10;

export function scaleKeys() {
  const kv = {};
  for (let h = 0; h < HOSTS; h++) {
    const host = `h-${String(h).padStart(5, "0")}`;
    for (let k = 0; k < PER_HOST; k++) {
      kv[`${SCALE_PREFIX}/hosts/${host}/k${k}`] = JSON.stringify({ host, k, ip: `10.${h >> 8}.${h & 255}.${k + 1}`, state: "confirmed" });
    }
  }
  return kv;
}

/** KiB (as /proc reports) to MB (10^6 bytes). */
function mb(kib) {
  return round((kib * 1024) / 1e6, 1);
}

export async function loadScale(ctx) {
  const client = ctx.etcd.client();
  await wipe(client, `${SCALE_PREFIX}/`);
  const kv = scaleKeys();
  await loadKeys(client, kv);
  return Object.keys(kv).length;
}

/**
 * One `perch watch` start (`argsFor(root)`: its flags, with a fresh --root): the initial sync's
 * times from its log and the RSS after the first pass; then steady state — settle, `changes`
 * changes (`makeChange(i)`: {key, value, file, needle}, each put and waited for until `file` under
 * `watchedDir` holds `needle`), settle again — and the RSS then.
 */
export async function syncRun(ctx, { argsFor, watchedDir, changes, makeChange, nodeArgs = [] }) {
  const root = await tempDir("root");
  const w = await startWatch(argsFor(root), { nodeArgs });
  try {
    const pass = await w.waitEvent((e) => e.event === "pass", { timeoutMs: 120_000 });
    const start = w.events.find((e) => e.event === "start");
    const sync = w.events.find((e) => e.event === "sync");
    const afterSync = await w.memory();
    const mirrorKeys = await w.metric("perch_mirror_keys");
    await settleThroughChanges(ctx.etcd.client(), path.join(root, watchedDir), changes, makeChange);
    const steady = await w.memory();
    return {
      mirrorKeys,
      spawnToFirstPassMs: pass.time - w.spawnedAtEpoch,
      startToFirstPassMs: pass.time - start.time,
      listMs: sync.time - start.time,
      firstPassMs: round(pass.durationMs, 1),
      rssAfterSyncMB: mb(afterSync.rssKiB),
      steadyRssMB: mb(steady.rssKiB),
      peakRssMB: mb(steady.hwmKiB),
    };
  } finally {
    await w.stop();
    await rm(root, { recursive: true, force: true });
  }
}

/** Medians over syncRun results. */
export function syncMedians(runs) {
  const med = (f) => round(median(runs.map(f)), 1);
  return {
    runs: runs.length,
    mirrorKeys: runs[0].mirrorKeys,
    spawnToFirstPassMs: med((r) => r.spawnToFirstPassMs),
    startToFirstPassMs: med((r) => r.startToFirstPassMs),
    listMs: med((r) => r.listMs),
    firstPassMs: med((r) => r.firstPassMs),
    rssAfterSyncMB: med((r) => r.rssAfterSyncMB),
    steadyRssMB: med((r) => r.steadyRssMB),
    peakRssMB: med((r) => r.peakRssMB),
  };
}

/** Steady state over the scale keys: a few changes to one key, each rendered into summary.txt. */
function scaleRun(ctx, changes, nodeArgs = []) {
  return syncRun(ctx, {
    argsFor: (root) => ["--confdir", CONFDIR, "--endpoints", ctx.etcd.clientUrl, "--node-name", ctx.localNode, "--root", root, "--sync-only"],
    watchedDir: "scale",
    changes,
    makeChange: () => {
      const value = JSON.stringify({ host: "h-00042", k: 3, change: ctx.nextChange() });
      return { key: `${SCALE_PREFIX}/hosts/h-00042/k3`, value, file: "summary.txt", needle: value };
    },
    nodeArgs,
  });
}

export async function measureScale(ctx) {
  const keys = await loadScale(ctx);
  const runs = [];
  for (let i = 0; i < ctx.scaleRuns; i++) runs.push(await scaleRun(ctx, 20));
  // Issue [1]: a one-shot render of the same 100,000 keys, whole process.
  const oneshots = [];
  for (let i = 0; i < ctx.scaleRuns; i++) {
    const root = await tempDir("root");
    try {
      oneshots.push(await timedRun(["render", "--confdir", CONFDIR, "--endpoints", ctx.etcd.clientUrl, "--node-name", ctx.localNode, "--root", root, "--sync-only"]));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }
  const result = {
    oneshotWallMs: round(median(oneshots.map((r) => r.wallMs)), 0),
    oneshotPeakRssMB: oneshots[0].maxRssKiB === undefined ? undefined : mb(median(oneshots.map((r) => r.maxRssKiB))),
    keys,
    perRun: runs,
    ...syncMedians(runs),
  };
  if (ctx.profile) {
    const dir = path.join(ctx.profilesDir, "scale-100k");
    await rm(dir, { recursive: true, force: true });
    await scaleRun(ctx, 5, ["--cpu-prof", "--cpu-prof-dir", dir]);
    ctx.profiles["scale-100k"] = await summarizeProfile(await profileIn(dir));
  }
  ctx.log(`  scale ${keys} keys: first pass ${result.spawnToFirstPassMs} ms after spawn (listing ${result.listMs} ms), steady RSS ${result.steadyRssMB} MB; one-shot render ${result.oneshotWallMs} ms, peak RSS ${result.oneshotPeakRssMB} MB`);
  await wipe(ctx.etcd.client(), `${SCALE_PREFIX}/`);
  return result;
}
