#!/usr/bin/env node
// `npm run bench`: perch at Calico scale. Starts its own etcd on loopback, loads synthetic Calico
// clusters (100, 1,000 and 5,000 nodes) and 100,000 keys, drives the BUILT CLI (dist/bundle/perch.js)
// and writes bench/results/latest.json and — after a full run — BENCHMARKS.md.
//
//   node bench/run.mjs [--only oneshot,latency,burst,etcdload,scale,calicov3,generic,footprint] [--quick] [--no-profile]
//   node bench/run.mjs --report
//
// --quick: fewer runs and changes and a 10 s idle window instead of 60 s, for iterating; --only: some measurements (calicov3: the same
// clusters in Calico's v3 datastore, read with --calico-v3, beside the v1 form). Either writes
// bench/results/BENCHMARKS.partial.md instead of BENCHMARKS.md, which only a full run rewrites.
// --report: measure nothing; rewrite BENCHMARKS.md from the last full run's latest.json and the
// last soak's soak.json (bench/soak.mjs), e.g. after a soak.
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";

/* global setInterval, clearInterval */
import { calicoCluster, loadKeys, LOCAL_NODE, wipe } from "./lib/cluster.mjs";
import { confdirVariant, tempDir } from "./lib/confdirs.mjs";
import { startEtcd } from "./lib/etcd.mjs";
import { cpuTimes, describeMachine, stealPercent } from "./lib/machine.mjs";
import { PERCH, REPO } from "./lib/perch.mjs";
import { renderMarkdown } from "./lib/report.mjs";
import { median } from "./lib/stats.mjs";
import { evaluateTargets } from "./lib/targets.mjs";
import { measureBurst } from "./suites/burst.mjs";
import { measureCalicoV3 } from "./suites/calico-v3.mjs";
import { measureEtcdLoad } from "./suites/etcd-load.mjs";
import { measureGeneric } from "./suites/generic.mjs";
import { measureLatency } from "./suites/latency.mjs";
import { etcdRenderArgs, fileRenderArgs, hasExtraCaCerts, measureNodeStart, measureOneShot, profileOneShot } from "./suites/oneshot.mjs";
import { measureScale } from "./suites/scale.mjs";
import { measureFootprint } from "./suites/footprint.mjs";

const SUITES = ["oneshot", "latency", "burst", "etcdload", "scale", "calicov3", "generic", "footprint"];
const SIZES = [100, 1000, 5000];

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    quick: { type: "boolean", default: false },
    "no-profile": { type: "boolean", default: false },
    report: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log("usage: node bench/run.mjs [--only oneshot,latency,burst,etcdload,scale,calicov3,generic,footprint] [--quick] [--no-profile] | --report");
  process.exit(0);
}
const resultsDir = path.join(REPO, "bench", "results");

/** The last soak's results (bench/soak.mjs), shown in BENCHMARKS.md when there are any. */
async function lastSoak() {
  return JSON.parse(await readFile(path.join(resultsDir, "soak.json"), "utf8").catch(() => "null"));
}

if (values.report) {
  const results = JSON.parse(await readFile(path.join(resultsDir, "latest.json"), "utf8"));
  if (!results.full) {
    console.error("bench: latest.json is not from a full run; run npm run bench");
    process.exit(2);
  }
  results.soak = await lastSoak();
  await writeFile(path.join(REPO, "BENCHMARKS.md"), renderMarkdown(results));
  console.log("bench: rewrote BENCHMARKS.md from bench/results/latest.json and soak.json");
  process.exit(0);
}
const only = values.only ? values.only.split(",").map((s) => s.trim()) : SUITES;
for (const s of only) {
  if (!SUITES.includes(s)) {
    console.error(`bench: unknown measurement ${JSON.stringify(s)} (known: ${SUITES.join(", ")})`);
    process.exit(2);
  }
}
if (!existsSync(PERCH)) {
  console.error(`bench: ${PERCH} is missing: run npm run build first (npm run bench does)`);
  process.exit(2);
}
const quick = values.quick;
const full = !quick && only.length === SUITES.length;
const want = (s) => only.includes(s);
await mkdir(resultsDir, { recursive: true });

const started = performance.now();
let changeCounter = 0;
const ctx = {
  quick,
  runs: quick ? 2 : 5,
  breakdownRuns: quick ? 1 : 3,
  latencyChanges: quick ? 40 : 400,
  etcdLoadChanges: quick ? 20 : 100,
  scaleRuns: quick ? 1 : 3,
  footprintIdleMs: quick ? 10_000 : 60_000,
  profile: !values["no-profile"],
  profilesDir: path.join(resultsDir, "profiles"),
  profiles: {},
  localNode: LOCAL_NODE,
  nextChange: () => changeCounter++,
  log: (line) => console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`),
};

const results = {
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`.replace("npm run bench -- ", "node bench/run.mjs "),
  startedAt: new Date().toISOString(),
  full,
  only,
  settings: { quick, runs: ctx.runs, latencyChanges: ctx.latencyChanges, etcdLoadChanges: ctx.etcdLoadChanges, scaleRuns: ctx.scaleRuns, footprintIdleMs: ctx.footprintIdleMs },
  machine: describeMachine(),
  loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
};

ctx.log(`perch bench: ${only.join(", ")}${quick ? " (quick)" : ""}`);
// The machine is shared: sample its load, to show what the figures were measured under.
// And the CPU steal (a virtual machine's cores lent to other machines) per 2 s and over the run.
const loadSamples = [loadavg()[0]];
const stealSamples = [];
const cpuAtStart = cpuTimes();
let cpuBefore = cpuAtStart;
const loadSampler = setInterval(() => {
  loadSamples.push(loadavg()[0]);
  const now = cpuTimes();
  const steal = stealPercent(cpuBefore, now);
  if (steal !== undefined) stealSamples.push(steal);
  cpuBefore = now;
}, 2000);
// The file-store one-shots first, before etcd exists: its background disk work (backend commits
// after the clusters are loaded and wiped) would otherwise slow these files' fsyncs.
if (want("oneshot")) {
  results.oneshot ??= {};
  const exampleArgs = fileRenderArgs(path.join(REPO, "examples"), path.join(REPO, "examples", "keys.json"), "node-a");
  results.oneshot.example = await measureOneShot(ctx, "the example (file store)", exampleArgs);
  results.oneshot.nodeStart = await measureNodeStart(ctx);
  // This workplace sets NODE_EXTRA_CA_CERTS, which every Node process loads at start; users don't:
  // the rows above run without it, these side rows with it show what it costs here.
  if (hasExtraCaCerts()) {
    results.oneshot.nodeStartWithExtraCa = await measureNodeStart(ctx, { extraCaCerts: true });
    results.oneshot.exampleWithExtraCa = await measureOneShot(ctx, "the example (file store), with NODE_EXTRA_CA_CERTS", exampleArgs, { extraCaCerts: true, breakdown: false });
  }
  // Every figure above runs with perch's caches (compiled templates, V8 code) filled by the warm-up
  // run; a build's very first run, or a machine without a usable cache directory, has neither.
  results.oneshot.exampleWithoutCaches = await measureOneShot(ctx, "the example (file store), PERCH_CACHE_DIR= (no caches)", exampleArgs, {
    env: { PERCH_CACHE_DIR: "" },
    breakdown: false,
  });
  if (ctx.profile) ctx.profiles["oneshot-example"] = await profileOneShot(ctx, "oneshot-example", exampleArgs);
}
const noCheck = await confdirVariant({ check: false });
ctx.etcd = await startEtcd();
ctx.log(`etcd at ${ctx.etcd.clientUrl} (data dir ${ctx.etcd.dataDir})`);
try {
  const client = ctx.etcd.client();
  const needsCluster = ["oneshot", "latency", "burst", "etcdload"].some(want);
  // Only the one-shots use the 100-node cluster; calicov3 loads its own.
  for (const size of needsCluster || want("calicov3") ? SIZES.filter((s) => want("oneshot") || s >= 1000) : []) {
    await wipe(client, "/calico/");
    if (needsCluster) {
      const kv = calicoCluster(size);
      const t = performance.now();
      await loadKeys(client, kv);
      ctx.log(`cluster of ${size} nodes: ${Object.keys(kv).length} keys loaded in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      // Let etcd's backend commit the load before anything is timed.
      await sleep(2000);
    }

    if (want("oneshot")) {
      results.oneshot.etcd ??= {};
      results.oneshot.etcd[size] = {
        shipped: await measureOneShot(ctx, `etcd ${size} nodes, shipped conf.d`, etcdRenderArgs(ctx, REPO)),
        noCheck: await measureOneShot(ctx, `etcd ${size} nodes, without check_cmd`, etcdRenderArgs(ctx, noCheck.dir)),
      };
      if (size === 1000 && hasExtraCaCerts()) {
        results.oneshot.etcd[size].shippedWithExtraCa = await measureOneShot(ctx, `etcd ${size} nodes, shipped conf.d, with NODE_EXTRA_CA_CERTS`, etcdRenderArgs(ctx, REPO), {
          extraCaCerts: true,
          breakdown: false,
        });
      }
      if (size === 1000) {
        // What `perch snapshot` would write: every key under /calico as a JSON object.
        const dir = await tempDir("snapshot");
        const snapshotFile = path.join(dir, "keys.json");
        const all = await client.getAll().prefix("/calico/").strings();
        await writeFile(snapshotFile, `${JSON.stringify(Object.fromEntries(Object.entries(all).sort(([a], [b]) => (a < b ? -1 : 1))), null, 2)}\n`);
        results.oneshot.snapshot1000 = {
          shipped: await measureOneShot(ctx, "snapshot of 1000 nodes, shipped conf.d", fileRenderArgs(REPO, snapshotFile, LOCAL_NODE)),
          noCheck: await measureOneShot(ctx, "snapshot of 1000 nodes, without check_cmd", fileRenderArgs(noCheck.dir, snapshotFile, LOCAL_NODE)),
        };
        if (ctx.profile) {
          ctx.profiles["oneshot-etcd-1000"] = await profileOneShot(ctx, "oneshot-etcd-1000", etcdRenderArgs(ctx, REPO));
          ctx.profiles["oneshot-snapshot-1000"] = await profileOneShot(ctx, "oneshot-snapshot-1000", fileRenderArgs(REPO, snapshotFile, LOCAL_NODE));
        }
        await rm(dir, { recursive: true, force: true });
      }
    }
    if (want("latency") && size >= 1000) {
      results.latency ??= {};
      results.latency[size] = {
        shipped: await measureLatency(ctx, { size, confdir: REPO, variant: "shipped", changes: ctx.latencyChanges }),
        noCheck: await measureLatency(ctx, { size, confdir: noCheck.dir, variant: "without check_cmd", changes: ctx.latencyChanges }),
      };
      if (ctx.profile) await measureLatency(ctx, { size, confdir: REPO, variant: "shipped, profiled", changes: 60, profileName: `latency-${size}` });
    }
    if (want("burst") && size >= 1000) {
      results.burst ??= {};
      results.burst[size] = await measureBurst(ctx, { size });
    }
    if (want("etcdload") && size === 1000) {
      results.etcdLoad = await measureEtcdLoad(ctx, { size, changes: ctx.etcdLoadChanges });
    }
    // Last at each size: it loads the cluster afresh with the v3 form beside it, and no other
    // measurement should meet the v3 keys.
    if (want("calicov3")) {
      results.calicoV3 ??= {};
      results.calicoV3[size] = await measureCalicoV3(ctx, { size, noCheckDir: noCheck.dir });
    }
  }
  if (needsCluster || want("calicov3")) await wipe(client, "/calico/");

  if (want("scale")) results.scale = await measureScale(ctx);
  if (want("generic")) results.generic = await measureGeneric(ctx, { changes: quick ? 20 : 200 });
  if (want("footprint")) results.footprint = await measureFootprint(ctx);
} finally {
  await ctx.etcd.stop();
  await noCheck.cleanup();
}

results.profiles = ctx.profiles;
results.finishedAt = new Date().toISOString();
results.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
clearInterval(loadSampler);
results.load = { samples: loadSamples.length, min: Math.min(...loadSamples), median: median(loadSamples), max: Math.max(...loadSamples) };
const round1 = (x) => Math.round(x * 10) / 10;
const stealOverall = stealPercent(cpuAtStart, cpuTimes());
results.steal =
  stealOverall === undefined || stealSamples.length === 0
    ? undefined
    : { overallPercent: round1(stealOverall), medianPercent: round1(median(stealSamples)), maxPercent: round1(Math.max(...stealSamples)), samples: stealSamples.length };
results.durationS = (performance.now() - started) / 1000;
results.targets = evaluateTargets(results);
await writeFile(path.join(resultsDir, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
results.soak = await lastSoak();
const markdown = renderMarkdown(results);
const mdFile = full ? path.join(REPO, "BENCHMARKS.md") : path.join(resultsDir, "BENCHMARKS.partial.md");
await writeFile(mdFile, markdown);

ctx.log(`done in ${results.durationS.toFixed(0)} s; wrote ${path.relative(REPO, path.join(resultsDir, "latest.json"))} and ${path.relative(REPO, mdFile)}`);
for (const t of results.targets) console.log(`  ${t.held ? "held  " : "MISSED"}  ${t.measurement}: ${t.figure} (target ${t.target})`);
