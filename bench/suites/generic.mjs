// Generic templates (not the Calico set): N keys under one prefix, templates of the shapes confd
// users write, and with `perch watch --wait 0ms:0ms` running, the time from an etcd put to the
// destination's new content (a value change, and an added key), plus the daemon's render time of
// one change at each size: it must not grow with the key count beyond the file write.
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { watchDir } from "../lib/changes.mjs";
import { loadKeys, wipe } from "../lib/cluster.mjs";
import { tempDir } from "../lib/confdirs.mjs";
import { startWatch } from "../lib/perch.mjs";
import { median, round, summarize } from "../lib/stats.mjs";
import { roundAll, timeChange } from "./latency.mjs";

export const GENERIC_SIZES = [1000, 10_000, 100_000];
const PREFIX = "/generic/pool";
/** How many of each kind's slowest changes the results keep (at 200 changes a kind, p99 is the third slowest). */
const SLOWEST_SHOWN = 3;
/** A `--trace-gc` line's pause: "… ms: Scavenge 3.8 (4.0) -> 3.4 (5.0) MB, 0.88 / 0.00 ms …". */
const GC_PAUSE = /ms: (.+?) [\d.]+ \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, ([\d.]+) \/ [\d.]+ ms/;

/** The shapes, each its own resource and daemon (so a change renders one file). */
export const GENERIC_SHAPES = {
  // The issue's own example: a gets loop with json inside the iteration.
  "gets-json": `{{#each (gets "${PREFIX}/*")}}{{#with (json value)}}{{this.cidr}}{{/with}}\n{{/each}}`,
  "ls-getv": `{{#each (ls "${PREFIX}")}}{{this}} {{getv (concat "${PREFIX}/" this)}}\n{{/each}}`,
  // A loop inside each iteration (over the value's ports), reading the outer context through ../.
  nested: `{{#each (gets "${PREFIX}/*")}}{{#with (json value)}}{{#each this.ports}}{{../cidr}}:{{this}} {{/each}}{{/with}}\n{{/each}}`,
  // @index: an added key re-renders every iteration after it (their numbers change).
  index: `{{#let sep=(getv "/generic/sep" ";")}}{{#each (getvs "${PREFIX}/*")}}{{concat "#" @index}}{{@sep}}{{this}}{{#if @last}}.{{/if}}\n{{/each}}{{/let}}`,
};

function keyName(i) {
  return `${PREFIX}/k${String(i).padStart(6, "0")}`;
}

function valueOf(i, tag = 0) {
  return JSON.stringify({ cidr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`, ports: [179, 1790 + tag] });
}

function genericKeys(n) {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [keyName(i), valueOf(i)]));
}

/** A change the file shows by its needle: a new value for an existing key, or a key that was not there. */
function genericChange(c, n, kind) {
  const i = (c * 7919) % n;
  const cidr = `10.200.${(c >> 8) & 255}.${c & 255}/32`;
  const value = JSON.stringify({ cidr, ports: [179, 1790] });
  const key = kind === "value" ? keyName(i) : `${keyName(i)}x${c}`;
  return { kind, key, value, needle: cidr };
}

async function confdirFor(shape) {
  const dir = await tempDir(`generic-${shape}`);
  await mkdir(path.join(dir, "conf.d"));
  await mkdir(path.join(dir, "templates"));
  await writeFile(path.join(dir, "templates", `${shape}.hbs`), GENERIC_SHAPES[shape]);
  await writeFile(path.join(dir, "conf.d", `${shape}.toml`), `[template]\nsrc = "${shape}.hbs"\ndest = "/out/${shape}.cfg"\nkeys = ["/generic"]\nmode = "0644"\n`);
  return dir;
}

/**
 * Every size, every shape (or those named): `changes` value changes and as many added keys (each removed again,
 * untimed). `nodeArgs`: more of node's flags for the daemons (to try V8's, e.g. a driver comparing collectors).
 */
export async function measureGeneric(ctx, { changes, sizes = ctx.quick ? [1000, 10_000] : GENERIC_SIZES, shapes = Object.keys(GENERIC_SHAPES), nodeArgs = [] }) {
  const client = ctx.etcd.client();
  const out = {};
  for (const size of sizes) {
    await wipe(client, "/generic/");
    await loadKeys(client, genericKeys(size));
    await sleep(1000);
    out[size] = {};
    for (const shape of shapes) out[size][shape] = await measureShape(ctx, { size, shape, changes, nodeArgs });
  }
  await wipe(client, "/generic/");
  return out;
}

async function measureShape(ctx, { size, shape, changes, nodeArgs }) {
  const confdir = await confdirFor(shape);
  const root = await tempDir("root");
  await mkdir(path.join(root, "out"));
  // --trace-gc: each collection's pause is a stdout line (a raw event in the log), so the slowest changes can be put
  // down to garbage collection or not.
  const w = await startWatch(["--confdir", confdir, "--endpoints", ctx.etcd.clientUrl, "--root", root, "--sync-only", "--wait", "0ms:0ms", "--log-level", "debug"], {
    nodeArgs: ["--trace-gc", ...nodeArgs],
  });
  let dir;
  try {
    await w.waitEvent((e) => e.event === "pass", { timeoutMs: 300_000 });
    const failed = w.events.find((e) => e.outcome === "failed");
    if (failed) throw new Error(`generic ${shape}: ${JSON.stringify(failed)}`);
    dir = await watchDir(path.join(root, "out"));
    await sleep(200);
    const client = ctx.etcd.client();
    const samples = { value: [], added: [] };
    for (let i = 0; i < changes * 2; i++) {
      const kind = i % 2 === 0 ? "value" : "added";
      const change = { ...genericChange(ctx.nextChange(), size, kind), file: `${shape}.cfg` };
      const from = w.events.length;
      const sample = await timeChange(w, dir, client, change);
      const events = w.events.slice(from);
      samples[kind].push({ ...sample, ...collectionsIn(events), ...daemonTimes(events, sample, shape) });
      if (kind === "added") {
        const removal = w.events.length;
        await client.delete().key(change.key);
        await dir.waitFor(change.file, (c) => !c.includes(change.needle), { timeoutMs: 60_000 });
        await w.waitEvent((e) => e.event === "pass", { from: removal });
      }
      await sleep(2);
    }
    const byKind = (kind) => ({
      latencyMs: roundAll(summarize(samples[kind].map((s) => s.fromPutMs))),
      renderMedianMs: round(median(samples[kind].map((s) => s.renderMs).filter((x) => x !== undefined)), 2),
      writeMedianMs: round(median(samples[kind].map((s) => s.writeMs).filter((x) => x !== undefined)), 2),
      // The floor's own tail: the put round trips of the same changes, as the bench's client saw them.
      putRoundTripMs: roundAll(summarize(samples[kind].map((s) => s.putMs))),
      changeLoggedMedianMs: round(median(samples[kind].map((s) => s.changeLoggedMs).filter((x) => x !== undefined)), 1),
      // What perch can answer for: put → file minus that put's own round trip to etcd.
      ownShareMs: roundAll(summarize(samples[kind].map((s) => s.fromPutMs - s.putMs))),
      // The collections' pauses within each change (most changes have none).
      gcMs: roundAll(summarize(samples[kind].map((s) => s.gcMs))),
      slowest: slowestChanges(samples[kind]),
    });
    const result = { size, shape, changes, value: byKind("value"), added: byKind("added") };
    ctx.log(
      `  generic ${size} keys, ${shape}: value p50 ${result.value.latencyMs.p50} / p99 ${result.value.latencyMs.p99} ms (render ${result.value.renderMedianMs} ms), ` +
        `added p50 ${result.added.latencyMs.p50} / p99 ${result.added.latencyMs.p99} ms (render ${result.added.renderMedianMs} ms)`,
    );
    return result;
  } finally {
    await dir?.close();
    await w.stop();
    await rm(root, { recursive: true, force: true });
    await rm(confdir, { recursive: true, force: true });
  }
}

/** The garbage collections logged (by --trace-gc) among a change's events: their summed pause, and their kinds. */
function collectionsIn(events) {
  let gcMs = 0;
  const gcKinds = [];
  for (const e of events) {
    const m = e.raw === undefined ? null : GC_PAUSE.exec(e.raw);
    if (m === null) continue;
    gcMs += Number(m[2]);
    gcKinds.push(m[1]);
  }
  return { gcMs, gcKinds };
}

/**
 * Put sent → the daemon's `changes` log line, and → its `write` line for the file (written once the file is installed
 * and its directory fsynced), by the daemon's clock (its ISO times, to the millisecond): unlike the times this process
 * read the lines, they leave out the lines' trip through the pipe and this process's own delays.
 */
function daemonTimes(events, sample, resource) {
  const changes = events.find((e) => e.event === "changes");
  const write = events.find((e) => e.event === "write" && e.resource === resource);
  if (changes === undefined || typeof changes.time !== "number" || sample.toDaemonMs === undefined) return {};
  const sentAtEpoch = performance.timeOrigin + changes.receivedAt - sample.toDaemonMs;
  return { changeLoggedMs: changes.time - sentAtEpoch, writeLoggedMs: typeof write?.time === "number" ? write.time - sentAtEpoch : undefined };
}

/**
 * The slowest changes, each taken apart: the put's round trip; put → the daemon's change event, as this process read
 * it (an upper bound: its log line can come in one read with the next) and as the daemon logged it (its clock, ±1 ms:
 * etcd's commit, the watch event's delivery, the mirror's update); its render and write (stage, fsync, rename); the
 * collections' pauses in the change (they can fall in any of those); the rest of the daemon's pass (from the change
 * logged to the write logged, less render and write: handing the change to the pass, its setup, logging); and the
 * bench's notice of the rename (put → file minus put → write logged: below zero by the directory fsync after the
 * rename; `byEvent` false: no rename event was stamped, and the change is timed at the read of the bench's poll).
 */
function slowestChanges(samples) {
  return [...samples]
    .sort((a, b) => b.fromPutMs - a.fromPutMs)
    .slice(0, SLOWEST_SHOWN)
    .map((s) => ({
      fromPutMs: round(s.fromPutMs, 2),
      putMs: round(s.putMs, 2),
      toDaemonMs: round(s.toDaemonMs, 2),
      changeLoggedMs: round(s.changeLoggedMs, 1),
      renderMs: s.renderMs,
      writeMs: s.writeMs,
      fsyncMs: s.fsyncMs,
      gcMs: round(s.gcMs, 2),
      gcKinds: s.gcKinds,
      passRestMs: s.writeLoggedMs === undefined ? undefined : round(s.writeLoggedMs - s.changeLoggedMs - (s.renderMs ?? 0) - (s.writeMs ?? 0), 1),
      noticeMs: s.writeLoggedMs === undefined ? undefined : round(s.fromPutMs - s.writeLoggedMs, 1),
      byEvent: s.byEvent,
    }));
}
