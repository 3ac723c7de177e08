// Watch latency: with `perch watch --wait 0ms:0ms` running, the time from an etcd put to the
// destination's new content being in place, one change at a time (each after the previous pass
// has finished, so every figure is one change's own latency).
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CONFIG_DIR, makeChange, putChange, watchDir } from "../lib/changes.mjs";
import { metricSum } from "../lib/etcd.mjs";
import { startWatch, REPO } from "../lib/perch.mjs";
import { profileIn, summarizeProfile } from "../lib/profile.mjs";
import { median, round, summarize } from "../lib/stats.mjs";
import { tempDir } from "../lib/confdirs.mjs";

/** How many of each kind's slowest changes the results keep (at 200 changes a kind, p99 is the third slowest). */
const SLOWEST_SHOWN = 4;

/** Daemon-side means over the changes, from /metrics deltas: render time per resource, check time. */
function histogramMeans(before, after, name, label) {
  const out = {};
  const values = new Set(after.filter((s) => s.name === `${name}_count`).map((s) => s.labels[label] ?? "all"));
  for (const v of values) {
    const want = v === "all" ? {} : { [label]: v };
    const count = metricSum(after, `${name}_count`, want) - metricSum(before, `${name}_count`, want);
    const sum = metricSum(after, `${name}_sum`, want) - metricSum(before, `${name}_sum`, want);
    if (count > 0) out[v] = { count, meanMs: round((sum / count) * 1000, 2) };
  }
  return out;
}

/**
 * `changes` changes against the loaded `size`-node cluster with the confdir `confdir`.
 * With `profileName`, the daemon runs under --cpu-prof and the summary is returned too.
 */
export async function measureLatency(ctx, { size, confdir, variant, changes, profileName }) {
  const root = await tempDir("root");
  const profileDir = profileName ? path.join(ctx.profilesDir, profileName) : undefined;
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
  const w = await startWatch(
    ["--confdir", confdir, "--endpoints", ctx.etcd.clientUrl, "--node-name", ctx.localNode, "--root", root, "--sync-only", "--wait", "0ms:0ms", "--log-level", "debug"],
    { nodeArgs: profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [] },
  );
  let dir;
  try {
    await w.waitEvent((e) => e.event === "pass", { timeoutMs: 120_000 });
    dir = await watchDir(path.join(root, CONFIG_DIR));
    await sleep(200);
    const before = await w.metrics();
    const client = ctx.etcd.client();
    const samples = [];
    // bird -p alone on the installed set, once after each change: the floor is measured under the
    // same load as the changes (the machine is shared), not in one block after them.
    const checkAloneTimes = [];
    // And a shell that runs nothing, started the same way: the part of that floor that is the
    // bench's own process start (a fork of this Node process), which the daemon's spare shell skips.
    const spawnAloneTimes = [];
    for (let i = 0; i < changes; i++) {
      const change = makeChange(ctx.nextChange(), size);
      samples.push(await timeChange(w, dir, client, change));
      if (change.kind === "block") {
        // The block goes again, untimed: each measured change meets this node with its three blocks,
        // and every case the same cluster (else 200 new blocks a case would pile up on this node).
        const removal = w.events.length;
        await client.delete().key(change.key);
        await dir.waitFor(change.file, (c) => !c.includes(change.needle));
        await w.waitEvent((e) => e.event === "pass", { from: removal });
      }
      if (variant === "shipped") {
        checkAloneTimes.push(await timeShell(path.join(root, CONFIG_DIR), "bird -p -c bird.cfg"));
        spawnAloneTimes.push(await timeShell(path.join(root, CONFIG_DIR), "true"));
      }
      await sleep(5);
    }
    const after = await w.metrics();
    const checkAloneMs = variant === "shipped" ? round(median(checkAloneTimes), 2) : undefined;
    const all = samples.map((s) => s.fromPutMs);
    /** `f` of each kind's samples, by kind. */
    const perKind = (f) => Object.fromEntries(["ip", "block"].map((k) => [k, f(samples.filter((s) => s.kind === k))]));
    const result = {
      size,
      variant,
      changes: samples.length,
      latencyMs: roundAll(summarize(all)),
      byKind: perKind((of) => roundAll(summarize(of.map((s) => s.fromPutMs)))),
      fromAckMs: roundAll(summarize(samples.map((s) => s.fromAckMs))),
      // The same changes timed the old way, at the bench's completed read of the file (which adds
      // reading and searching it, and the bench's own scheduling), and how many had an event.
      readByKind: perKind((of) => roundAll(summarize(of.map((s) => s.readFromPutMs)))),
      timedByEventByKind: perKind((of) => of.filter((s) => s.byEvent).length),
      // The floors' own tails (the targets subtract their medians): put round trips and bird -p alone.
      putRoundTripMs: roundAll(summarize(samples.map((s) => s.putMs))),
      checkAloneMs: variant === "shipped" ? roundAll(summarize(checkAloneTimes)) : undefined,
      passMedianMsByKind: perKind((of) => round(median(of.map((s) => s.passMs)), 1)),
      anatomyByKind: perKind(anatomy),
      renderMeans: histogramMeans(before, after, "perch_render_duration_seconds", "resource"),
      checkMeans: histogramMeans(before, after, "perch_check_duration_seconds", "resource"),
      checkAloneMedianMs: checkAloneMs,
      spawnAloneMedianMs: variant === "shipped" ? round(median(spawnAloneTimes), 2) : undefined,
      // Issue 21's "perch's own share": each change's put → file minus that put's own round trip and
      // the median of bird -p alone on the installed set (the floors outside perch, same run).
      ownShareByKind: checkAloneMs === undefined ? undefined : perKind((of) => roundAll(summarize(of.map((s) => s.fromPutMs - s.putMs - checkAloneMs)))),
      // Beside it, not a target: each change's own check, as the daemon timed it, subtracted instead of
      // bird -p alone's median, so BIRD's spread from one parse to the next leaves the tail.
      ownShareLessOwnCheckByKind:
        variant === "shipped" ? perKind((of) => roundAll(summarize(of.filter((s) => s.checkMs !== undefined).map((s) => s.fromPutMs - s.putMs - s.checkMs)))) : undefined,
      // The tail's own anatomy: the slowest changes of each kind, with the etcd put's round trip
      // beside the daemon's render and write, so a p99 can be put down to etcd or to perch.
      slowestByKind: perKind(slowest),
      rawMs: all.map((x) => round(x, 2)),
    };
    ctx.log(`  latency ${size} nodes (${variant}): p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, max ${result.latencyMs.max} ms over ${samples.length} changes`);
    return result;
  } finally {
    await dir?.close();
    await w.stop();
    await rm(root, { recursive: true, force: true });
    if (profileDir) {
      try {
        const summary = await summarizeProfile(await profileIn(profileDir));
        ctx.profiles[profileName] = summary;
        ctx.log(`  profiled ${profileName}: ${path.relative(REPO, profileDir)}`);
      } catch (err) {
        ctx.log(`  (no profile for ${profileName}: ${err.message})`);
      }
    }
  }
}

/**
 * Put one change and time it (see watchDir): from just before the put to the rename that installed
 * the content holding `change.needle`, and the daemon's side of it from its debug log — when the
 * change event was logged (as received here), the render and the write (staging, check, install)
 * of the file. Returns once the daemon's pass is done, so the next change meets an idle daemon.
 */
export async function timeChange(w, dir, client, change) {
  const from = w.events.length;
  const { sentAt, ackAt } = await putChange(client, change);
  const { at, readAt, byEvent } = await dir.waitFor(change.file, (c) => c.includes(change.needle), { since: sentAt });
  const pass = await w.waitEvent((e) => e.event === "pass", { from });
  const resource = change.file.replace(/\.cfg$/, "");
  const mine = w.events.slice(from);
  const changed = mine.find((e) => e.event === "changes");
  const render = mine.find((e) => e.event === "render" && e.resource === resource);
  const write = mine.find((e) => e.event === "write" && e.resource === resource);
  // A check group's check and its staged set's fsync are in its checker's write event.
  const checked = mine.find((e) => e.event === "write" && e.checkMs !== undefined);
  return {
    kind: change.kind,
    fromPutMs: at - sentAt,
    fromAckMs: at - ackAt,
    readFromPutMs: readAt - sentAt,
    byEvent,
    putMs: ackAt - sentAt,
    passMs: pass.durationMs,
    toDaemonMs: changed ? changed.receivedAt - sentAt : undefined,
    renderMs: render?.durationMs,
    writeMs: write?.durationMs,
    fsyncMs: write?.fsyncMs ?? checked?.fsyncMs,
    checkMs: checked?.checkMs,
  };
}

/**
 * Medians over samples of: put sent → the daemon's change event seen here; render of the file; its
 * write (stage, fsync, check_cmd, rename, directory fsync), and of that check_cmd and the stage file's fsync.
 */
export function anatomy(samples) {
  const med = (f) => round(median(samples.map(f).filter((x) => x !== undefined)), 2);
  return { toDaemonMs: med((s) => s.toDaemonMs), renderMs: med((s) => s.renderMs), writeMs: med((s) => s.writeMs), checkMs: med((s) => s.checkMs), fsyncMs: med((s) => s.fsyncMs), totalMs: med((s) => s.fromPutMs) };
}

/** The slowest samples, with the etcd put's round trip beside the daemon's render and write. */
export function slowest(samples) {
  return [...samples]
    .sort((a, b) => b.fromPutMs - a.fromPutMs)
    .slice(0, SLOWEST_SHOWN)
    .map((s) => ({ fromPutMs: round(s.fromPutMs, 2), putMs: round(s.putMs, 2), toDaemonMs: s.toDaemonMs === undefined ? undefined : round(s.toDaemonMs, 2), renderMs: s.renderMs, writeMs: s.writeMs, checkMs: s.checkMs, fsyncMs: s.fsyncMs }));
}

/**
 * One run of `script` through /bin/sh in `dir`, spawned by the bench. With the shipped bird.cfg's
 * check_cmd on the installed file, as perch runs it: the share of an address change's latency that
 * no change to perch can remove.
 */
async function timeShell(dir, script) {
  const started = performance.now();
  const code = await new Promise((resolve) => spawn("/bin/sh", ["-c", script], { cwd: dir, stdio: "ignore" }).on("close", resolve));
  if (code !== 0) throw new Error(`${script} in ${dir} exited ${code}`);
  return performance.now() - started;
}

export function roundAll(s) {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === "count" ? v : round(v, 2)]));
}
