#!/usr/bin/env node
// The soak: `perch watch` (the BUILT CLI) with the shipped Calico set for a synthetic ~100-node
// cluster, fed 50 changes a second for 10 minutes while etcd is restarted every two minutes.
// At the end the files perch keeps must equal a fresh one-shot render of etcd's final state, and
// perch's RSS must be within 10% of what it was after the first minute.
//
//   node bench/soak.mjs [--minutes 10] [--rate 50] [--nodes 100] [--restart-every 120] [--seed 1]
//
// Not part of `npm test`. Writes bench/results/soak.json (git-ignored) and prints a markdown table.
// Self-contained on purpose: it shares no code with the rest of bench/ or with test/helpers.
import { spawn } from "node:child_process";
import { Buffer } from "node:buffer";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { Etcd3 } from "etcd3";
import { freePort } from "./lib/etcd.mjs";
import { onJsonLines } from "./lib/json-lines.mjs";
import { cleanEnv, PERCH, REPO } from "./lib/perch.mjs";

/* global fetch, AbortSignal, setTimeout, clearTimeout */

const ETCD_BIN = "/usr/bin/etcd";
const RESULTS = path.join(REPO, "bench/results/soak.json");
const LOCAL = "node-00000";
const CONFIG_DIR = "etc/calico/confd/config";

const { values: opts } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    rate: { type: "string", default: "50" },
    nodes: { type: "string", default: "100" },
    "restart-every": { type: "string", default: "120" },
    seed: { type: "string", default: "1" },
  },
});
const MINUTES = Number(opts.minutes);
const RATE = Number(opts.rate);
const NODES = Number(opts.nodes);
const RESTART_EVERY_S = Number(opts["restart-every"]);
for (const [name, v] of Object.entries({ minutes: MINUTES, rate: RATE, nodes: NODES, "restart-every": RESTART_EVERY_S })) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
}
if (NODES > 250) throw new Error("--nodes: at most 250 (one address octet)");
const DURATION_MS = MINUTES * 60_000;
// RSS "after the first minute": the first minute, or a tenth of a shorter run.
const BASELINE_AT_MS = Math.min(60_000, DURATION_MS / 10);
const RSS_EVERY_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Cleanup: whatever happens, no etcd or perch outlives the soak, and the temp dir goes.

const children = new Set();
let workDir;
function killAll() {
  for (const c of children) c.kill("SIGKILL");
  children.clear();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(sig, () => {
    killAll();
    process.exit(130);
  });
}
function track(child) {
  children.add(child);
  child.once("exit", () => children.delete(child));
  // Should this process be SIGKILLed, a watchdog shell kills the child once we are gone.
  const script = 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; kill -9 "$2" 2>/dev/null';
  spawn("/bin/sh", ["-c", script, "perch-soak-watchdog", String(process.pid), String(child.pid)], { detached: true, stdio: "ignore" }).unref();
  return child;
}

async function until(what, probe, timeoutMs, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------------------------
// etcd: one member whose data dir and ports survive restarts.

async function startEtcd(dataDir) {
  const [client, peer, metrics] = [await freePort(), await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const metricsUrl = `http://127.0.0.1:${metrics}`;
  const args = [
    "--name", "perch-soak", "--data-dir", dataDir,
    "--listen-client-urls", clientUrl, "--advertise-client-urls", clientUrl,
    "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl,
    "--initial-cluster", `perch-soak=${peerUrl}`, "--initial-cluster-token", `perch-soak-${client}`,
    "--initial-cluster-state", "new", "--listen-metrics-urls", metricsUrl,
    "--logger", "zap", "--log-outputs", "stderr", "--log-level", "error",
  ];
  let child;
  let stderr = "";
  const start = async () => {
    stderr = "";
    child = track(spawn(ETCD_BIN, args, { env: cleanEnv(), stdio: ["ignore", "ignore", "pipe"] }));
    child.stderr.setEncoding("utf8").on("data", (c) => (stderr = (stderr + c).slice(-4000)));
    const started = child;
    await until(
      `etcd to be healthy (${stderr.trim()})`,
      async () => {
        if (started.exitCode !== null) throw new Error(`etcd exited: ${stderr.trim()}`);
        const res = await fetch(`${metricsUrl}/health`, { signal: AbortSignal.timeout(1000) });
        return (await res.json()).health === "true";
      },
      20_000,
    );
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((resolve) => c.once("exit", resolve));
    c.kill("SIGTERM");
    const t = setTimeout(() => c.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(t);
  };
  await start();
  return { clientUrl, start, stop };
}

// ---------------------------------------------------------------------------------------------
// A synthetic Calico cluster in Calico's v1 key model (see ../shared/conformance). The IPv4 pool is
// VXLAN: an IPIP pool makes bird_ipam.cfg use krt_tunnel, which stock BIRD's `bird -p` rejects.

const nodeName = (i) => `node-${String(i).padStart(5, "0")}`;
const nodeIPv4 = (i, alt = false) => `10.${alt ? 101 : 100}.0.${i + 1}`;
const hostPrefix = (i) => `/calico/bgp/v1/host/${nodeName(i)}/`;
const localBlock = (k) => `/calico/ipam/v2/host/${LOCAL}/ipv4/block/172.31.${k}.0-26`;
const globalPeer = (p) => `/calico/bgp/v1/global/peer_v4/10.0.0.${p + 1}`;
const peerValue = (p, as) => JSON.stringify({ ip: `10.0.0.${p + 1}`, as_num: as, rr_cluster_id: "", password: null, port: 0, keep_next_hop: false });

function hostKeys(i) {
  const h = hostPrefix(i);
  return {
    [`${h}ip_addr_v4`]: nodeIPv4(i),
    [`${h}ip_addr_v6`]: `fd00:10::${(i + 1).toString(16)}`,
    [`${h}as_num`]: "64512",
    [`${h}network_v4`]: "10.100.0.0/16",
    [`${h}rr_cluster_id`]: "",
  };
}

function cluster(n) {
  const kv = {
    "/calico/bgp/v1/global/as_num": "64512",
    "/calico/bgp/v1/global/loglevel": "info",
    "/calico/bgp/v1/global/node_mesh": '{"enabled":true}',
    "/calico/v1/ipam/v4/pool/172.16.0.0-12": JSON.stringify({ cidr: "172.16.0.0/12", ipip: "", ipip_mode: "", vxlan_mode: "Always", masquerade: true, ipam: true, disabled: false }),
    "/calico/v1/ipam/v6/pool/fd00::-48": JSON.stringify({ cidr: "fd00::/48", ipip: "", ipip_mode: "", vxlan_mode: "", masquerade: false, ipam: true, disabled: false }),
  };
  for (let p = 0; p < 3; p++) kv[globalPeer(p)] = peerValue(p, "64513");
  for (let i = 0; i < n; i++) {
    Object.assign(kv, hostKeys(i));
    for (let k = 0; k < 3; k++) kv[`/calico/ipam/v2/host/${nodeName(i)}/ipv4/block/172.${16 + Math.floor(i / 64)}.${(i % 64) * 4 + k}.0-26`] = '{"state":"confirmed"}';
    kv[`/calico/ipam/v2/host/${nodeName(i)}/ipv6/block/fd00:${(0x1000 + i).toString(16)}::-122`] = '{"state":"confirmed"}';
  }
  return kv;
}

const put = (kv) => ({ request_put: { key: Buffer.from(kv[0]), value: Buffer.from(kv[1]) } });

/** A deterministic PRNG (mulberry32), so two runs with one seed make the same changes. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The change generator. Each change is one etcd request: a node's address flips between two
 * unique addresses (bird.cfg's mesh), one of this node's blocks comes or goes (bird_aggr.cfg), a
 * global peer's AS flips (bird.cfg), or a whole node leaves (one prefix delete) or joins (one
 * transaction). The local node itself never changes, so every state renders.
 */
function changes(seed) {
  const random = prng(seed);
  const present = new Set(Array.from({ length: NODES - 1 }, (_, i) => i + 1));
  const gone = new Set();
  const alt = new Set();
  const blocks = new Set();
  const peerAs = [0, 0, 0];
  const pick = (set) => [...set][Math.floor(random() * set.size)];
  return () => {
    const r = random();
    if (r < 0.4 && present.size > 0) {
      const i = pick(present);
      const flip = !alt.has(i);
      if (flip) alt.add(i);
      else alt.delete(i);
      return { kind: "address", op: (c, o) => c.kv.put({ key: Buffer.from(`${hostPrefix(i)}ip_addr_v4`), value: Buffer.from(nodeIPv4(i, flip)) }, o) };
    }
    if (r < 0.65) {
      const k = Math.floor(random() * 64);
      const key = Buffer.from(localBlock(k));
      if (blocks.has(k)) {
        blocks.delete(k);
        return { kind: "block-", op: (c, o) => c.kv.deleteRange({ key }, o) };
      }
      blocks.add(k);
      return { kind: "block+", op: (c, o) => c.kv.put({ key, value: Buffer.from('{"state":"confirmed"}') }, o) };
    }
    if (r < 0.85) {
      const p = Math.floor(random() * 3);
      peerAs[p] ^= 1;
      const value = peerValue(p, peerAs[p] ? "64514" : "64513");
      return { kind: "peer", op: (c, o) => c.kv.put({ key: Buffer.from(globalPeer(p)), value: Buffer.from(value) }, o) };
    }
    if (gone.size === 0 || (r < 0.93 && present.size > 1)) {
      const i = pick(present);
      present.delete(i);
      gone.add(i);
      alt.delete(i);
      const start = Buffer.from(hostPrefix(i));
      const end = Buffer.from(start);
      end[end.length - 1] += 1;
      return { kind: "node-", op: (c, o) => c.kv.deleteRange({ key: start, range_end: end }, o) };
    }
    const i = pick(gone);
    gone.delete(i);
    present.add(i);
    const success = Object.entries(hostKeys(i)).map(put);
    return { kind: "node+", op: (c, o) => c.kv.txn({ compare: [], success, failure: [] }, o) };
  };
}

// ---------------------------------------------------------------------------------------------
// perch

function perchArgs(root, endpoint) {
  return ["--confdir", REPO, "--root", root, "--sync-only", "--node-name", LOCAL, "--endpoints", endpoint];
}

function startPerchWatch(root, endpoint, port) {
  const child = track(
    spawn(process.execPath, [PERCH, "watch", ...perchArgs(root, endpoint), "--listen", `127.0.0.1:${port}`, "--log-level", "warn"], {
      cwd: REPO,
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  const log = { counts: {}, last: [], stderr: "" };
  onJsonLines(child.stdout, (e, line) => {
    const name = `${e.event ?? "?"}${e.state ? `:${e.state}` : ""}${e.outcome ? `:${e.outcome}` : ""}`;
    log.counts[name] = (log.counts[name] ?? 0) + 1;
    log.last = [...log.last.slice(-19), line];
  });
  child.stderr.setEncoding("utf8").on("data", (c) => (log.stderr = (log.stderr + c).slice(-4000)));
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, log, exited };
}

async function metrics(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
  const sum = (name, want = {}) => {
    let total = 0;
    for (const line of text.split("\n")) {
      const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const labels = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      if (Object.entries(want).every(([k, v]) => labels[k] === v)) total += Number(m[3]);
    }
    return total;
  };
  return sum;
}

async function readyz(port) {
  return (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) })).status;
}

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  return kib / 1024;
}

async function readTree(root) {
  const dir = path.join(root, CONFIG_DIR);
  const out = {};
  for (const f of (await readdir(dir)).filter((n) => !n.startsWith(".")).sort()) out[f] = await readFile(path.join(dir, f), "utf8");
  return out;
}

function runOnce(args) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(process.execPath, [PERCH, ...args], { cwd: REPO, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] }));
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (c) => (out += c));
    child.stderr.setEncoding("utf8").on("data", (c) => (out += c));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, out }));
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

// ---------------------------------------------------------------------------------------------

async function main() {
  if (!existsSync(PERCH)) throw new Error(`${PERCH} is missing: run npm run build first`);
  if (!existsSync(ETCD_BIN)) throw new Error(`${ETCD_BIN} is missing: install etcd-server`);
  workDir = await mkdtemp(path.join(tmpdir(), "perch-soak-"));
  const dataDir = path.join(workDir, "etcd");
  const rootWatch = path.join(workDir, "watch");
  const rootFresh = path.join(workDir, "fresh");
  await mkdir(dataDir);
  const startedAt = new Date();

  const etcd = await startEtcd(dataDir);
  let client = new Etcd3({ hosts: [etcd.clientUrl] });
  const initial = Object.entries(cluster(NODES));
  for (let i = 0; i < initial.length; i += 128) {
    await client.kv.txn({ compare: [], success: initial.slice(i, i + 128).map(put), failure: [] });
  }
  console.error(`soak: ${initial.length} keys for ${NODES} nodes; ${RATE} changes/s for ${MINUTES} min; etcd restart every ${RESTART_EVERY_S} s`);

  const port = await freePort();
  const perch = startPerchWatch(rootWatch, etcd.clientUrl, port);
  await until("perch watch to be ready", async () => (await readyz(port)) === 200, 60_000, 100);
  const pid = perch.child.pid;

  const next = changes(Number(opts.seed));
  const counts = { attempted: 0, ok: 0, failed: 0, byKind: {} };
  const inflight = new Set();
  const rss = [];
  const restarts = [];
  let restarting = false;
  const t0 = performance.now();
  const elapsed = () => performance.now() - t0;

  const issue = () => {
    const change = next();
    counts.attempted++;
    counts.byKind[change.kind] = (counts.byKind[change.kind] ?? 0) + 1;
    const c = client;
    const p = change
      .op(c, { deadline: Date.now() + 2000 })
      .then(() => counts.ok++, () => counts.failed++)
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };

  const restartEtcd = async (atS) => {
    restarting = true;
    const downAt = performance.now();
    await etcd.stop();
    await etcd.start();
    const upAt = performance.now();
    // etcd3's circuit breaker would hold requests back for seconds after the outage: a new client.
    const old = client;
    client = new Etcd3({ hosts: [etcd.clientUrl] });
    old.close();
    restarting = false;
    await until("perch to be ready after the restart", async () => (await readyz(port)) === 200, 60_000, 20);
    const readyAt = performance.now();
    restarts.push({ atS, etcdDownMs: round(upAt - downAt, 0), perchReadyAfterMs: round(readyAt - upAt, 0) });
    console.error(`soak: etcd restarted at ${atS} s (down ${round(upAt - downAt, 0)} ms); perch ready ${round(readyAt - upAt, 0)} ms after`);
  };

  // The driver: one change every 1000/RATE ms on an absolute schedule, so slow requests do not
  // lower the rate; while etcd is down the changes still go out (and fail).
  const intervalMs = 1000 / RATE;
  let issued = 0;
  let nextRestartS = RESTART_EVERY_S;
  let nextRssMs = 0;
  let pendingRestart;
  while (elapsed() < DURATION_MS) {
    const now = elapsed();
    const due = Math.floor(now / intervalMs);
    while (issued < due && inflight.size < 500) {
      issue();
      issued++;
    }
    if (now >= nextRssMs) {
      rss.push({ tS: round(now / 1000), mib: round(rssMiB(pid), 2) });
      nextRssMs += RSS_EVERY_MS;
    }
    if (!restarting && pendingRestart === undefined && now >= nextRestartS * 1000 && nextRestartS * 1000 < DURATION_MS - 5_000) {
      pendingRestart = restartEtcd(nextRestartS).finally(() => (pendingRestart = undefined));
      nextRestartS += RESTART_EVERY_S;
    }
    if (perch.child.exitCode !== null) throw new Error(`perch watch exited during the soak: ${perch.log.stderr}\n${perch.log.last.join("\n")}`);
    await sleep(Math.max(1, intervalMs / 2));
  }
  await pendingRestart;
  await Promise.allSettled([...inflight]);
  const endRss = rssMiB(pid);
  rss.push({ tS: round(elapsed() / 1000), mib: round(endRss, 2) });

  // Converge: perch has applied etcd's last revision and no pass has run for two seconds.
  const revision = Number((await client.maintenance.status()).header.revision);
  const settleStart = performance.now();
  await until("perch to apply the final revision", async () => (await metrics(port))("perch_applied_revision") >= revision, 60_000, 50);
  let lastPasses = -1;
  let quietSince = performance.now();
  await until(
    "perch to go quiet",
    async () => {
      const passes = (await metrics(port))("perch_passes_total");
      if (passes !== lastPasses) {
        lastPasses = passes;
        quietSince = performance.now();
      }
      return performance.now() - quietSince >= 2000;
    },
    60_000,
    100,
  );
  const convergeMs = performance.now() - settleStart - 2000;
  const m = await metrics(port);

  const fresh = await runOnce(["render", ...perchArgs(rootFresh, etcd.clientUrl)]);
  const watched = await readTree(rootWatch);
  const expected = fresh.code === 0 ? await readTree(rootFresh) : {};
  const differing = Object.keys({ ...watched, ...expected }).filter((f) => watched[f] !== expected[f]);

  perch.child.kill("SIGTERM");
  const exitCode = await Promise.race([perch.exited, sleep(30_000).then(() => "timeout")]);
  client.close();
  await etcd.stop();

  const window = (fromMs, toMs) => rss.filter((s) => s.tS * 1000 >= fromMs && s.tS * 1000 <= toMs).map((s) => s.mib);
  const baselineSample = rss.find((s) => s.tS * 1000 >= BASELINE_AT_MS) ?? rss[0];
  const baselineMedian = median(window(BASELINE_AT_MS - 15_000, BASELINE_AT_MS + 15_000));
  const endMedian = median(window(DURATION_MS - 30_000, DURATION_MS + 5_000));
  const pointDelta = (endRss - baselineSample.mib) / baselineSample.mib;
  const medianDelta = (endMedian - baselineMedian) / baselineMedian;
  const failedRenders = ["render-failed", "check-failed", "failed"].reduce((n, o) => n + m("perch_renders_total", { outcome: o }), 0);

  const result = {
    date: startedAt.toISOString(),
    command: `node bench/soak.mjs --minutes ${MINUTES} --rate ${RATE} --nodes ${NODES} --restart-every ${RESTART_EVERY_S} --seed ${opts.seed}`,
    node: process.version,
    cluster: { nodes: NODES, keys: initial.length },
    durationS: round(DURATION_MS / 1000, 0),
    changes: { ...counts, perSecond: round(counts.attempted / (DURATION_MS / 1000)) },
    etcdRestarts: restarts,
    finalRevision: revision,
    convergeAfterLastChangeMs: round(Math.max(0, convergeMs), 0),
    perch: {
      passes: m("perch_passes_total"),
      passesFailed: m("perch_passes_total", { outcome: "failed" }),
      renders: m("perch_renders_total"),
      rendersFailed: failedRenders,
      writes: m("perch_writes_total"),
      checks: m("perch_checks_total"),
      checksFailed: m("perch_checks_total", { outcome: "failed" }),
      storeEvents: m("perch_store_events_total"),
      resyncs: m("perch_resyncs_total"),
      logCounts: perch.log.counts,
      exitCode,
    },
    rssMiB: {
      afterFirstMinute: baselineSample.mib,
      atEnd: round(endRss, 2),
      pointDeltaPct: round(pointDelta * 100, 2),
      medianAroundFirstMinute: round(baselineMedian, 2),
      medianOfLast30s: round(endMedian, 2),
      medianDeltaPct: round(medianDelta * 100, 2),
      peak: Math.max(...rss.map((s) => s.mib)),
      samples: rss,
    },
    finalFiles: { freshRenderExit: fresh.code, freshRenderOutput: fresh.code === 0 ? undefined : fresh.out, files: Object.keys(watched).length, differing },
  };
  const checks = {
    filesEqual: fresh.code === 0 && differing.length === 0 && Object.keys(watched).length === 6,
    rssWithin10pct: Math.abs(pointDelta) <= 0.1,
    noFailedRenders: failedRenders === 0,
    cleanExit: exitCode === 0,
  };
  result.held = checks;
  await mkdir(path.dirname(RESULTS), { recursive: true });
  await writeFile(RESULTS, `${JSON.stringify(result, null, 2)}\n`);

  const yes = (b) => (b ? "yes" : "**no**");
  const rows = [
    ["run", `${MINUTES} min, ${NODES}-node synthetic Calico cluster (${initial.length} keys), shipped conf.d/templates, \`--sync-only\`, check_cmd on`],
    ["changes", `${counts.attempted} attempted (${result.changes.perSecond}/s), ${counts.ok} applied, ${counts.failed} refused while etcd was down`],
    ["etcd restarts", `${restarts.length} (down ${restarts.map((r) => r.etcdDownMs).join(", ")} ms; perch ready again ${restarts.map((r) => r.perchReadyAfterMs).join(", ")} ms after)`],
    ["perch saw the outages", `${perch.log.counts["store:disconnected"] ?? 0} "store disconnected" warnings, ${perch.log.counts["store:unavailable"] ?? 0} failed listings retried`],
    ["perch passes", `${result.perch.passes} (${result.perch.passesFailed} failed); ${result.perch.writes} writes; ${result.perch.checks} checks (${result.perch.checksFailed} failed); ${result.perch.resyncs} resyncs`],
    ["converged after the last change", `${result.convergeAfterLastChangeMs} ms`],
    ["final files equal a fresh `perch render`", `${yes(checks.filesEqual)}${differing.length ? ` (differ: ${differing.join(", ")})` : ""}`],
    ["RSS after the first minute → at the end", `${baselineSample.mib} MiB → ${round(endRss, 2)} MiB (${round(pointDelta * 100, 2)}%; within 10%: ${yes(checks.rssWithin10pct)})`],
    ["RSS medians (±15 s around 1 min → last 30 s)", `${round(baselineMedian, 2)} MiB → ${round(endMedian, 2)} MiB (${round(medianDelta * 100, 2)}%); peak ${result.rssMiB.peak} MiB`],
    ["failed renders / checks", `${failedRenders}`],
    ["perch exit on SIGTERM", `${exitCode}`],
  ];
  console.log(`## Soak (\`${result.command}\`)\n\n| | |\n| --- | --- |\n${rows.map(([a, b]) => `| ${a} | ${b} |`).join("\n")}\n`);
  await rm(workDir, { recursive: true, force: true });
  workDir = undefined;
  return Object.values(checks).every(Boolean) ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`soak failed: ${err instanceof Error ? err.stack : String(err)}`);
    killAll();
    process.exitCode = 2;
  },
);
