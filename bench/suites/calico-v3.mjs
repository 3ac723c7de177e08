// `--calico-v3`: perch reading the same cluster from Calico's v3 datastore (bench/lib/cluster.mjs,
// calicoClusterV3) and deriving the v1 keys, beside perch reading the v1 keys themselves. Both forms
// are in etcd at once: each daemon lists and watches only its own prefixes (the block affinities,
// the same keys in both forms, are shared), so the two can be measured side by side, change by
// change, under the same load — the figure wanted is a difference of a few ms between two series
// that each drift by more than that between runs on a shared machine.
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CONFIG_DIR, makeAddressChange, watchDir } from "../lib/changes.mjs";
import { calicoCluster, calicoClusterV3, loadKeys, wipe } from "../lib/cluster.mjs";
import { tempDir } from "../lib/confdirs.mjs";
import { REPO, startWatch, timedRun } from "../lib/perch.mjs";
import { profileIn, summarizeProfile } from "../lib/profile.mjs";
import { median, round, summarize } from "../lib/stats.mjs";
import { anatomy, roundAll, slowest, timeChange } from "./latency.mjs";
import { syncMedians, syncRun } from "./scale.mjs";

const FORMS = ["v1", "v3"];
/** The cluster size whose initial sync is measured (and profiled). */
const SYNC_SIZE = 5000;

/**
 * Everything at one size: both forms loaded afresh (the other suites change the v1 form's
 * addresses), the two forms' files compared, then the initial sync (at SYNC_SIZE) and the paired
 * latency, with the shipped set and without check_cmd (`noCheckDir`).
 */
export async function measureCalicoV3(ctx, { size, noCheckDir }) {
  const client = ctx.etcd.client();
  const v1Keys = calicoCluster(size);
  const v3Only = Object.entries(calicoClusterV3(size)).filter(([key, value]) => v1Keys[key] !== value);
  await wipe(client, "/calico/");
  await loadKeys(client, { ...v1Keys, ...Object.fromEntries(v3Only) });
  ctx.log(`calico-v3, ${size} nodes: ${Object.keys(v1Keys).length} keys of the v1 form and ${v3Only.length} more of the v3 form loaded`);
  await sleep(2000);
  const result = { size, v3KeysAdded: v3Only.length, sameFiles: await checkSameFiles(ctx, REPO) };
  if (size === SYNC_SIZE) result.sync = await measureSync(ctx, { size });
  const pairs = ctx.latencyChanges / 2;
  result.latency = {
    shipped: await measurePairedLatency(ctx, { size, confdir: REPO, variant: "shipped", pairs }),
    noCheck: await measurePairedLatency(ctx, { size, confdir: noCheckDir, variant: "without check_cmd", pairs }),
  };
  if (ctx.profile && size === SYNC_SIZE) await profileV3(ctx, { size, name: `calico-v3-${size}`, changes: 60 });
  return result;
}

/** The flags that make a daemon or a render read the given form. */
function formArgs(form) {
  return form === "v3" ? ["--calico-v3"] : [];
}

function storeArgs(ctx, confdir, root) {
  return ["--confdir", confdir, "--endpoints", ctx.etcd.clientUrl, "--node-name", ctx.localNode, "--root", root, "--sync-only"];
}

/**
 * The two forms must render the same files, or the comparison compares different work: one-shot
 * renders of each from etcd, compared byte for byte (perch render fails on a v3 resource it had
 * to leave out). Throws on any difference.
 */
async function checkSameFiles(ctx, confdir) {
  const roots = {};
  try {
    for (const form of FORMS) {
      roots[form] = await tempDir(`root-${form}`);
      await timedRun(["render", ...formArgs(form), ...storeArgs(ctx, confdir, roots[form])]);
    }
    const dir = (form) => path.join(roots[form], CONFIG_DIR);
    const files = (await readdir(dir("v1"))).sort();
    const v3Files = (await readdir(dir("v3"))).sort();
    if (files.join() !== v3Files.join()) throw new Error(`calico-v3: the v1 form rendered ${files.join(", ")}, the v3 form ${v3Files.join(", ")}`);
    let bytes = 0;
    for (const file of files) {
      const [a, b] = await Promise.all(FORMS.map((form) => readFile(path.join(dir(form), file), "utf8")));
      if (a !== b) throw new Error(`calico-v3: ${file} rendered from the v3 form differs from the v1 form's`);
      bytes += a.length;
    }
    return { files: files.length, bytes };
  } finally {
    for (const root of Object.values(roots)) await rm(root, { recursive: true, force: true });
  }
}

/**
 * The initial sync of each form: `ctx.scaleRuns` daemon starts each (shipped set), alternating
 * forms; each start's times and RSS as the scale suite takes them, its steady state made of 20
 * address changes of remote nodes in its own form.
 */
async function measureSync(ctx, { size }) {
  const perRun = { v1: [], v3: [] };
  for (let i = 0; i < ctx.scaleRuns; i++) {
    for (const form of i % 2 === 0 ? FORMS : [...FORMS].reverse()) {
      perRun[form].push(await syncRun(ctx, syncOptions(ctx, size, form)));
    }
  }
  const result = { size, ...Object.fromEntries(FORMS.map((form) => [form, { ...syncMedians(perRun[form]), perRun: perRun[form] }])) };
  ctx.log(
    `  calico-v3 sync ${size} nodes: start → first pass v1 ${result.v1.startToFirstPassMs} ms, v3 ${result.v3.startToFirstPassMs} ms; ` +
      `steady RSS v1 ${result.v1.steadyRssMB} MB, v3 ${result.v3.steadyRssMB} MB (${ctx.scaleRuns} starts each)`,
  );
  return result;
}

function syncOptions(ctx, size, form) {
  return {
    argsFor: (root) => [...formArgs(form), ...storeArgs(ctx, REPO, root)],
    watchedDir: CONFIG_DIR,
    changes: 20,
    makeChange: () => makeAddressChange(ctx.nextChange(), size)[form],
  };
}

/**
 * Watch latency of a remote node's address change, in both forms at once: a daemon per form
 * (`--wait 0ms:0ms`, as the latency suite runs), then `pairs` changes, each made in both forms (the
 * same node, the same new address), one form after the other, the order alternating so neither
 * form always goes first. Each change is timed as the latency suite times it.
 */
async function measurePairedLatency(ctx, { size, confdir, variant, pairs }) {
  const roots = {};
  const daemons = {};
  const dirs = {};
  try {
    for (const form of FORMS) {
      roots[form] = await tempDir(`root-${form}`);
      daemons[form] = await startWatch([...formArgs(form), ...storeArgs(ctx, confdir, roots[form]), "--wait", "0ms:0ms", "--log-level", "debug"]);
    }
    for (const form of FORMS) {
      await daemons[form].waitEvent((e) => e.event === "pass", { timeoutMs: 120_000 });
      dirs[form] = await watchDir(path.join(roots[form], CONFIG_DIR));
    }
    await sleep(200);
    const client = ctx.etcd.client();
    const samples = { v1: [], v3: [] };
    for (let i = 0; i < pairs; i++) {
      const change = makeAddressChange(ctx.nextChange(), size);
      for (const form of i % 2 === 0 ? FORMS : [...FORMS].reverse()) {
        samples[form].push(await timeChange(daemons[form], dirs[form], client, change[form]));
        await sleep(5);
      }
    }
    const series = (of) => ({
      changes: of.length,
      latencyMs: roundAll(summarize(of.map((s) => s.fromPutMs))),
      readMs: roundAll(summarize(of.map((s) => s.readFromPutMs))),
      timedByEvent: of.filter((s) => s.byEvent).length,
      putRoundTripMedianMs: round(median(of.map((s) => s.putMs)), 2),
      passMedianMs: round(median(of.map((s) => s.passMs)), 1),
      anatomy: anatomy(of),
      slowest: slowest(of),
      rawMs: of.map((s) => round(s.fromPutMs, 2)),
    });
    const result = { size, variant, pairs, v1: series(samples.v1), v3: series(samples.v3) };
    result.p50DeltaMs = round(result.v3.latencyMs.p50 - result.v1.latencyMs.p50, 2);
    result.p99DeltaMs = round(result.v3.latencyMs.p99 - result.v1.latencyMs.p99, 2);
    ctx.log(
      `  calico-v3 latency ${size} nodes (${variant}): p50 v1 ${result.v1.latencyMs.p50} ms, v3 ${result.v3.latencyMs.p50} ms (${result.p50DeltaMs >= 0 ? "+" : ""}${result.p50DeltaMs} ms); ` +
        `p99 v1 ${result.v1.latencyMs.p99} ms, v3 ${result.v3.latencyMs.p99} ms over ${pairs} changes each`,
    );
    return result;
  } finally {
    await Promise.all(Object.values(dirs).map((dir) => dir.close()));
    for (const w of Object.values(daemons)) await w.stop();
    for (const root of Object.values(roots)) await rm(root, { recursive: true, force: true });
  }
}

/**
 * The v3 daemon alone under --cpu-prof: its initial sync and then `changes` address changes (the
 * latency suite's --wait 0ms:0ms), so the profile holds the derivation's listing and its per-change
 * work. The summary goes into ctx.profiles[name].
 */
async function profileV3(ctx, { size, name, changes }) {
  const dir = path.join(ctx.profilesDir, name);
  await rm(dir, { recursive: true, force: true });
  const root = await tempDir("root-v3");
  const w = await startWatch([...formArgs("v3"), ...storeArgs(ctx, REPO, root), "--wait", "0ms:0ms", "--log-level", "debug"], { nodeArgs: ["--cpu-prof", "--cpu-prof-dir", dir] });
  let watched;
  try {
    await w.waitEvent((e) => e.event === "pass", { timeoutMs: 120_000 });
    watched = await watchDir(path.join(root, CONFIG_DIR));
    const client = ctx.etcd.client();
    for (let i = 0; i < changes; i++) {
      await timeChange(w, watched, client, makeAddressChange(ctx.nextChange(), size).v3);
      await sleep(5);
    }
  } finally {
    await watched?.close();
    await w.stop();
    await rm(root, { recursive: true, force: true });
  }
  ctx.profiles[name] = await summarizeProfile(await profileIn(dir));
  ctx.log(`  profiled ${name}: ${path.relative(REPO, dir)}`);
}
