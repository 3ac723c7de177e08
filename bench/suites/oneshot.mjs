// One-shot: a cold `perch render` as a whole process (node start, module loading, conf.d and
// template loading, listing, rendering, staging, check_cmd, install), wall time and peak RSS.
// Every run renders into a fresh --root, so every file is written (and checked) each time.
// Issue [11]: the primary rows run without NODE_EXTRA_CA_CERTS, as users do (Node loads that file at
// every start); `extraCaCerts: true` keeps an environment's variable, for the side rows that show its cost.
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { summarizeProfile, profileIn } from "../lib/profile.mjs";
import { cleanEnv, REPO, timedRun } from "../lib/perch.mjs";
import { median, round } from "../lib/stats.mjs";
import { tempDir } from "../lib/confdirs.mjs";
import { parseLogLine } from "../lib/json-lines.mjs";

const EXTRA_CA_CERTS = "NODE_EXTRA_CA_CERTS";

/** Whether this environment sets the variable the side rows keep. */
export const hasExtraCaCerts = () => Boolean(process.env[EXTRA_CA_CERTS]);

const droppedEnv = (extraCaCerts) => (extraCaCerts ? [] : [EXTRA_CA_CERTS]);

/**
 * Run `perch render` (argsFor(root) gives the flags) `runs` times after one discarded warm-up run
 * (which only fills the page cache), then a few more times with debug logs for a phase breakdown.
 */
export async function measureOneShot(ctx, label, argsFor, { extraCaCerts = false, env = {}, breakdown = true } = {}) {
  const dropEnv = droppedEnv(extraCaCerts);
  const runs = [];
  for (let i = 0; i <= ctx.runs; i++) {
    const root = await tempDir("root");
    try {
      const r = await timedRun([...argsFor(root), "--sync-only"], { dropEnv, env });
      if (i > 0) runs.push({ wallMs: round(r.wallMs, 1), maxRssKiB: r.maxRssKiB });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }
  const phases = breakdown ? await phaseBreakdown(argsFor, ctx.breakdownRuns, dropEnv) : undefined;
  const result = {
    label,
    runs: runs.length,
    wallMs: runs.map((r) => r.wallMs),
    maxRssKiB: runs.map((r) => r.maxRssKiB),
    medianWallMs: round(median(runs.map((r) => r.wallMs)), 1),
    medianMaxRssMB: round((median(runs.map((r) => r.maxRssKiB)) * 1024) / 1e6, 1),
    breakdown: phases,
  };
  ctx.log(`  one-shot ${label}: median ${result.medianWallMs} ms, peak RSS ${result.medianMaxRssMB} MB (${runs.length} runs)`);
  return result;
}

/**
 * Where one run's wall time goes, from perch's own debug log (stderr, JSON lines with epoch ms):
 * start-up (node, module loading, conf.d, template compilation, store connection) until the listing
 * began; the listing; the pass (render + write + check per resource); the exit after the pass.
 */
async function phaseBreakdown(argsFor, runs, dropEnv) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const b = await oneBreakdown(argsFor, dropEnv);
    if (b) samples.push(b);
  }
  if (samples.length === 0) return undefined;
  const med = (k) => round(median(samples.map((b) => b[k])), 1);
  return {
    runs: samples.length,
    wallMs: med("wallMs"),
    startupMs: med("startupMs"),
    listMs: med("listMs"),
    keys: samples[0].keys,
    passMs: med("passMs"),
    renderMs: med("renderMs"),
    writeAndCheckMs: med("writeAndCheckMs"),
    afterPassMs: med("afterPassMs"),
  };
}

async function oneBreakdown(argsFor, dropEnv) {
  const root = await tempDir("root");
  try {
    const r = await timedRun([...argsFor(root), "--sync-only", "--log-level", "debug"], { dropEnv });
    const events = r.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map(parseLogLine);
    const list = events.find((e) => e.event === "list");
    const pass = events.find((e) => e.event === "pass");
    if (!list || !pass) return undefined;
    const listStart = list.time - list.durationMs;
    const renders = events.filter((e) => e.event === "render");
    const writes = events.filter((e) => e.event === "write");
    return {
      wallMs: r.wallMs,
      startupMs: listStart - r.startedEpoch,
      listMs: list.durationMs,
      keys: list.keys,
      passMs: pass.durationMs,
      renderMs: renders.reduce((a, e) => a + e.durationMs, 0),
      writeAndCheckMs: writes.reduce((a, e) => a + e.durationMs, 0),
      afterPassMs: r.wallMs - (pass.time - r.startedEpoch),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * Node's own start-up on this machine, with the environment perch runs in (`node -e 0`, spawn to
 * exit): the floor under every one-shot figure. Median of `ctx.runs` after one warm-up.
 */
export async function measureNodeStart(ctx, { extraCaCerts = false } = {}) {
  const dropEnv = droppedEnv(extraCaCerts);
  const env = cleanEnv({}, dropEnv);
  const times = [];
  for (let i = 0; i <= ctx.runs; i++) {
    const started = performance.now();
    await new Promise((resolve, reject) => spawn(process.execPath, ["-e", "0"], { env, stdio: "ignore" }).once("error", reject).once("close", resolve));
    if (i > 0) times.push(performance.now() - started);
  }
  const result = { runs: times.length, medianWallMs: round(median(times), 1) };
  ctx.log(`  node -e 0${extraCaCerts ? ` with ${EXTRA_CA_CERTS}` : ""}: median ${result.medianWallMs} ms`);
  return result;
}

/** One more run under `node --cpu-prof`, summarized (the profile stays in bench/results/profiles). */
export async function profileOneShot(ctx, name, argsFor) {
  const dir = path.join(ctx.profilesDir, name);
  await rm(dir, { recursive: true, force: true });
  const root = await tempDir("root");
  try {
    await timedRun([...argsFor(root), "--sync-only"], { nodeArgs: ["--cpu-prof", "--cpu-prof-dir", dir], dropEnv: droppedEnv(false) });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const summary = await summarizeProfile(await profileIn(dir));
  ctx.log(`  profiled ${name}: ${path.relative(REPO, dir)}`);
  return summary;
}

export function etcdRenderArgs(ctx, confdir) {
  return (root) => ["render", "--confdir", confdir, "--endpoints", ctx.etcd.clientUrl, "--node-name", ctx.localNode, "--root", root];
}

export function fileRenderArgs(confdir, keys, nodeName) {
  return (root) => ["render", "--confdir", confdir, "--backend", "file", "--keys", keys, "--node-name", nodeName, "--root", root];
}
