// Burst: 1,000 changes within one second with the default wait window. Counted from the daemon's
// /metrics: passes, renders and reloads (reload_cmd made `true <original>`, so reloads run and are
// counted and deduplicated as the real ones would be); timed: from the last change to the file
// holding every change.
import { rm } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { CONFIG_DIR, makeChange, tokensOf, watchDir } from "../lib/changes.mjs";
import { metricSum } from "../lib/etcd.mjs";
import { startWatch } from "../lib/perch.mjs";
import { round } from "../lib/stats.mjs";
import { confdirVariant, tempDir } from "../lib/confdirs.mjs";

const CHANGES = 1000;
const SPAN_MS = 800; // the puts are issued over 0.8 s so that the last is acknowledged within 1 s
const TICKS = 100;
/** The default --wait (src/cli/settings.ts DEFAULT_WAIT). */
const DEFAULT_WAIT = { minMs: 50, maxMs: 500 };

export async function measureBurst(ctx, { size }) {
  const variant = await confdirVariant({ check: true, reload: "true" });
  const root = await tempDir("root");
  const w = await startWatch(["--confdir", variant.dir, "--endpoints", ctx.etcd.clientUrl, "--node-name", ctx.localNode, "--root", root]);
  let dir;
  try {
    await w.waitEvent((e) => e.event === "pass", { timeoutMs: 120_000 });
    dir = await watchDir(path.join(root, CONFIG_DIR));
    await sleep(1000);
    const before = await w.metrics();
    const fromEvent = w.events.length;

    // 1,000 distinct node addresses (one per remote node; beyond that, new blocks on this node).
    const changes = [];
    for (let i = 0; i < CHANGES; i++) changes.push(makeChange(ctx.nextChange(), size, i < size - 1 ? "ip" : "block"));
    // Distinct keys: nodes are picked by a stride, so make sure no node is hit twice.
    const ipKeys = new Set(changes.filter((c) => c.kind === "ip").map((c) => c.key));
    if (ipKeys.size !== changes.filter((c) => c.kind === "ip").length) throw new Error("burst: a node would change twice");

    const client = ctx.etcd.client();
    const perTick = CHANGES / TICKS;
    const start = performance.now();
    let lastAck = 0;
    const inflight = [];
    for (let t = 0; t < TICKS; t++) {
      const due = start + (t * SPAN_MS) / TICKS;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      for (const change of changes.slice(t * perTick, (t + 1) * perTick)) {
        inflight.push(
          client
            .put(change.key)
            .value(change.value)
            .then(() => (lastAck = Math.max(lastAck, performance.now()))),
        );
      }
    }
    await Promise.all(inflight);
    const spanMs = lastAck - start;

    // The final files: every new address in bird.cfg, every new block in bird_aggr.cfg.
    const tokensByFile = new Map();
    for (const c of changes) tokensByFile.set(c.file, [...(tokensByFile.get(c.file) ?? []), c.token]);
    const finals = await Promise.all(
      [...tokensByFile].map(([file, tokens]) =>
        dir.waitFor(
          file,
          (content) => {
            const have = tokensOf(file, content);
            return tokens.every((t) => have.has(t));
          },
          { timeoutMs: 60_000 },
        ),
      ),
    );
    // readAt, not the event's time: with renames in quick succession, an event's read may show a later one's content.
    const finalAt = Math.max(...finals.map((f) => f.readAt));

    // Quiet: no pass for 4 × wait.max, then count.
    for (;;) {
      const n = w.events.length;
      await sleep(DEFAULT_WAIT.maxMs * 4);
      if (!w.events.slice(n).some((e) => e.event === "pass")) break;
    }
    const after = await w.metrics();
    const delta = (name, labels = {}) => metricSum(after, name, labels) - metricSum(before, name, labels);
    const reloadEvents = w.events.slice(fromEvent).filter((e) => e.event === "reload");
    const renders = {};
    for (const r of ["bird", "bird6", "bird_aggr", "bird6_aggr", "bird_ipam", "bird6_ipam"]) {
      const n = delta("perch_renders_total", { resource: r });
      if (n > 0) renders[r] = n;
    }
    const result = {
      size,
      changes: CHANGES,
      wait: `${DEFAULT_WAIT.minMs}ms:${DEFAULT_WAIT.maxMs}ms (default)`,
      changeSpanMs: round(spanMs, 1),
      passes: delta("perch_passes_total"),
      renders,
      rendersTotal: delta("perch_renders_total"),
      reloads: delta("perch_reloads_total"),
      reloadCommands: reloadEvents.map((e) => e.command),
      lastChangeToFinalFileMs: round(finalAt - lastAck, 1),
      passDurationsMs: w.events
        .slice(fromEvent)
        .filter((e) => e.event === "pass")
        .map((e) => round(e.durationMs, 1)),
    };
    ctx.log(`  burst ${size} nodes: ${result.passes} passes, ${result.reloads} reloads, final file ${result.lastChangeToFinalFileMs} ms after the last change (changes over ${result.changeSpanMs} ms)`);
    return result;
  } finally {
    await dir?.close();
    await w.stop();
    await rm(root, { recursive: true, force: true });
    await variant.cleanup();
  }
}
