// Running the BUILT perch CLI (dist/bundle/perch.js, the launcher of the esbuild bundle that npm
// ships): one-shot renders timed as whole processes, and
// `perch watch` as a child process with its JSON log and its /metrics.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, metricSum, parsePrometheus } from "./etcd.mjs";
import { onJsonLines } from "./json-lines.mjs";

/* global fetch, setTimeout, clearTimeout */

export const REPO = path.resolve(import.meta.dirname, "../..");
// PERCH_BENCH_CLI: another build's launcher, to measure two builds side by side.
export const PERCH = process.env.PERCH_BENCH_CLI ?? path.join(REPO, "dist/bundle/perch.js");
const TIME_BIN = "/usr/bin/time";

/** Every child this bench started and that is still running: killed if the bench exits early. */
const children = new Set();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

function track(child) {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/**
 * Environment for perch: no inherited PERCH_*, ETCD_* or NODENAME (the flags say it all), nor the
 * variables named in `drop`.
 */
export function cleanEnv(extra = {}, drop = []) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("PERCH_") && !k.startsWith("ETCD_") && k !== "NODENAME" && !drop.includes(k)),
  );
  return { ...env, ...extra };
}

/**
 * Run `node dist/bundle/perch.js ...args` once as a whole process. Wall time is measured here
 * (spawn to exit, ms resolution); peak RSS comes from GNU time's %M (the kernel's ru_maxrss of
 * the child, KiB). `nodeArgs` go before the script (e.g. --cpu-prof); `dropEnv` names variables
 * the child does not get, `env` variables it gets (e.g. PERCH_CACHE_DIR).
 */
export async function timedRun(args, { cwd = REPO, nodeArgs = [], dropEnv = [], env = {} } = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), "perch-bench-time-"));
  const timeFile = path.join(dir, "time");
  const useTime = existsSync(TIME_BIN);
  const argv = useTime ? [TIME_BIN, "-o", timeFile, "-f", "%e %M", process.execPath, ...nodeArgs, PERCH, ...args] : [process.execPath, ...nodeArgs, PERCH, ...args];
  const startedEpoch = Date.now();
  const started = performance.now();
  const { code, stdout, stderr } = await new Promise((resolve, reject) => {
    const child = track(spawn(argv[0], argv.slice(1), { cwd, env: cleanEnv(env, dropEnv), stdio: ["ignore", "pipe", "pipe"] }));
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (c) => (out += c));
    child.stderr.setEncoding("utf8").on("data", (c) => (err += c));
    child.once("error", reject);
    child.once("close", (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  const wallMs = performance.now() - started;
  let maxRssKiB;
  if (useTime) {
    const fields = (await readFile(timeFile, "utf8")).trim().split("\n").at(-1).split(" ");
    maxRssKiB = Number(fields[1]);
  }
  await rm(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`perch ${args.join(" ")} exited ${code}:\n${stdout}\n${stderr}`);
  return { wallMs, maxRssKiB, stdout, stderr, startedEpoch };
}

/**
 * `perch watch` as a child process. Every stdout line is a JSON log event; each is kept with the
 * time (performance.now() of this process) it arrived. `listen: false` starts it without
 * `--listen` (no /metrics): it is then returned at once, not when /healthz answers.
 */
export async function startWatch(args, { cwd = REPO, nodeArgs = [], listen = true } = {}) {
  const port = await freePort();
  const spawnedAt = performance.now();
  const spawnedAtEpoch = Date.now();
  const child = track(spawn(process.execPath, [...nodeArgs, PERCH, "watch", ...(listen ? ["--listen", `127.0.0.1:${port}`] : []), ...args], { cwd, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] }));
  const events = [];
  const waiters = new Set();
  let stderr = "";
  onJsonLines(child.stdout, (ev) => {
    ev.receivedAt = performance.now();
    events.push(ev);
    for (const w of waiters) w();
  });
  child.stderr.setEncoding("utf8").on("data", (c) => (stderr = (stderr + c).slice(-8000)));
  let exitCode;
  const exited = new Promise((resolve) => child.once("close", (c) => resolve((exitCode = c))));
  void exited.then(() => {
    for (const w of waiters) w();
  });

  const w = {
    pid: child.pid,
    port,
    spawnedAt,
    spawnedAtEpoch,
    events,
    get exited() {
      return exitCode !== undefined;
    },
    /** Resolves with the first event (from index `from`) that `accept` takes. */
    waitEvent(accept, { timeoutMs = 60_000, from = 0 } = {}) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (let i = from; i < events.length; i++) {
            if (accept(events[i])) {
              done();
              resolve(events[i]);
              return;
            }
          }
          if (exitCode !== undefined) {
            done();
            reject(new Error(`perch watch exited (${exitCode}) before the expected event: ${stderr}\n${tail(events)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for a perch watch event\n${tail(events)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    /** Parsed /metrics. */
    async metrics() {
      return parsePrometheus(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    },
    async metric(name, labels = {}) {
      return metricSum(await w.metrics(), name, labels);
    },
    /** VmRSS and VmHWM of the process, KiB. */
    async memory() {
      const status = await readFile(`/proc/${child.pid}/status`, "utf8");
      const field = (n) => Number(new RegExp(`^${n}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
      return { rssKiB: field("VmRSS"), hwmKiB: field("VmHWM") };
    },
    /** SIGTERM and wait for the exit; SIGKILL after 15 s. */
    async stop() {
      if (exitCode === undefined) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(t);
      }
      return exitCode;
    },
  };
  if (!listen) return w;
  // Ready once /healthz answers (the status server starts before the initial sync).
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`perch watch exited early (${exitCode}): ${stderr}\n${tail(events)}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await w.stop();
      throw new Error(`perch watch did not serve /healthz: ${stderr}`);
    }
    await sleep(10);
  }
  return w;
}

function tail(events) {
  return events
    .slice(-10)
    .map((e) => JSON.stringify(e))
    .join("\n");
}
