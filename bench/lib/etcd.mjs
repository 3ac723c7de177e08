// A throwaway etcd for the benchmarks: loopback only, free ports, a temp data dir, a large backend
// quota, stopped (and its data dir removed) at the end — also when the bench process dies, via a
// watchdog shell. Modelled on test/helpers/etcd-server.ts, which bench code must not import.
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Etcd3 } from "etcd3";

/* global fetch, AbortSignal, setTimeout, clearTimeout */

const ETCD_BIN = "/usr/bin/etcd";
const QUOTA_BYTES = 8 * 1024 * 1024 * 1024;

const running = new Set();
const dirs = new Set();
let hooked = false;

function hookExit() {
  if (hooked) return;
  hooked = true;
  const killAll = () => {
    for (const child of running) child.kill("SIGKILL");
    running.clear();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    dirs.clear();
  };
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

/**
 * Start etcd. `dataRoot` is where the temp data dir goes (default: the OS temp dir).
 * Returns { clientUrl, metricsUrl, dataDir, pid, client(), metrics(), stop() }.
 */
export async function startEtcd({ dataRoot = tmpdir() } = {}) {
  hookExit();
  const dataDir = await mkdtemp(join(dataRoot, "perch-bench-etcd-"));
  dirs.add(dataDir);
  const [client, peer, metrics] = [await freePort(), await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const metricsUrl = `http://127.0.0.1:${metrics}`;
  const args = [
    "--name", "perch-bench",
    "--data-dir", dataDir,
    "--listen-client-urls", clientUrl,
    "--advertise-client-urls", clientUrl,
    "--listen-peer-urls", peerUrl,
    "--initial-advertise-peer-urls", peerUrl,
    "--initial-cluster", `perch-bench=${peerUrl}`,
    "--initial-cluster-token", `perch-bench-${client}`,
    "--initial-cluster-state", "new",
    "--listen-metrics-urls", metricsUrl,
    "--quota-backend-bytes", String(QUOTA_BYTES),
    "--logger", "zap",
    "--log-outputs", "stderr",
    "--log-level", "error",
  ];
  // etcd reads ETCD_* variables as flags: keep the caller's out of the server.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("ETCD_")));
  const child = spawn(ETCD_BIN, args, { env, stdio: ["ignore", "ignore", "pipe"] });
  running.add(child);
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c) => (stderr = (stderr + c).slice(-4000)));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let gone = false;
  void exited.then(() => {
    gone = true;
    running.delete(child);
  });
  // The bench may be SIGKILLed: a watchdog shell kills etcd once the bench process is gone.
  const script = 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; kill -9 "$2" 2>/dev/null; rm -rf "$3"';
  spawn("/bin/sh", ["-c", script, "perch-bench-etcd-watchdog", String(process.pid), String(child.pid), dataDir], { detached: true, stdio: "ignore" }).unref();

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (gone) throw new Error(`etcd exited during start-up: ${stderr.trim()}`);
    try {
      const res = await fetch(`${metricsUrl}/health`, { signal: AbortSignal.timeout(1000) });
      if (((await res.json()).health ?? "") === "true") break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`etcd did not become healthy: ${stderr.trim()}`);
    }
    await sleep(50);
  }

  let etcdClient;
  return {
    clientUrl,
    metricsUrl,
    dataDir,
    pid: child.pid,
    client() {
      etcdClient ??= new Etcd3({ hosts: [clientUrl] });
      return etcdClient;
    },
    /** etcd's Prometheus text, parsed into [{name, labels, value}]. */
    async metrics() {
      const text = await (await fetch(`${metricsUrl}/metrics`)).text();
      return parsePrometheus(text);
    },
    async stop() {
      etcdClient?.close();
      etcdClient = undefined;
      if (!gone) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(t);
      }
      dirs.delete(dataDir);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function parsePrometheus(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const lm of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include `want`. */
export function metricSum(samples, name, want = {}) {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(want).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}
