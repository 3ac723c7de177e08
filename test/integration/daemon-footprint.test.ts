// What a `perch watch` at rest costs (docs/deploy.md, "Memory"): V8's young generation stays at its
// initial size through a listing that would grow it to its maximum, an idle daemon's event loop
// wakes about once a second (the event-loop delay histogram), not every 10 ms, and the garbage of
// a burst of changes is collected once the daemon goes quiet, not in a series of collections later,
// and a burst of full renders is collected while it runs, not once the heap has grown fourfold.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { makeConfdir, resourceToml, type TestConfdir } from "../helpers/confdir.js";
import { startWatch, waitFor, type WatchProcess } from "../helpers/watch-process.js";

/** Enough keys that the listing's survivors make V8 grow its young generation to the maximum. */
const HOSTS = 5_000;
const KEYS_PER_HOST = 10;
/** V8's young generation at its initial size is a few MB; grown, 32 MB. */
const YOUNG_GENERATION_LIMIT = 8 * 1024 * 1024;
const IDLE_MS = 5_000;
/** A wakeup a second plus slack for a scrape or a garbage collection; every 10 ms would be ~500. */
const IDLE_WAKEUPS_LIMIT = 50;
/** src/watch/idle-compaction.ts's delay, plus slack for a loaded machine. */
const QUIET_COLLECTION_WITHIN_MS = 3_000;
/** V8's memory reducer waits 8 s after a full collection: a window that holds all it would run. */
const MEMORY_REDUCER_WINDOW_MS = 12_000;
/** Unchecked, V8's memory reducer runs up to three full collections in a row. */
const MEMORY_REDUCER_COLLECTIONS_LIMIT = 1;
const BURST = 5;
/** Changes that each render every key again: a few MB of garbage apiece, enough to reach V8's next full collection. */
const FULL_RENDER_BURST = 20;
/**
 * How far above the RSS at rest a burst of full renders may take the resident peak: under 50 MB with
 * the old generation growing by a fixed 25% after a collection (src/cli/v8-flags.ts), over 150 MB
 * with V8's own factor.
 */
const FULL_RENDER_BURST_PEAK_MB = 80;

let c: TestConfdir | undefined;
let w: WatchProcess | undefined;

afterEach(async () => {
  await w?.stop();
  w = undefined;
  await c?.cleanup();
  c = undefined;
});

async function startOverManyKeys(template = 'first {{getv "/hosts/h-0/k0"}}\n'): Promise<{ w: WatchProcess; dest: string; keys: Record<string, string> }> {
  c = await makeConfdir();
  const dest = path.join(c.out, "app.cfg");
  await c.writeTemplate("app.hbs", template);
  await c.writeResource("app", resourceToml("app.hbs", dest, ["/hosts"]));
  const keys: Record<string, string> = {};
  for (let h = 0; h < HOSTS; h++) {
    for (let k = 0; k < KEYS_PER_HOST; k++) keys[`/hosts/h-${h}/k${k}`] = JSON.stringify({ h, k, ip: `10.${h >> 8}.${h & 255}.${k}`, state: "confirmed" });
  }
  await c.writeKeys(keys);
  w = await startWatch(["--confdir", c.dir, "--backend", "file", "--keys", c.keysFile]);
  await w.waitForFile(dest, (content) => content.startsWith(template.slice(0, 6)));
  return { w, dest, keys };
}

/** Sum of the samples whose name ends with `suffix` (whatever the metrics' prefix) and that carry `labels`. */
async function metricEndingWith(port: number, suffix: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const lines = text.split("\n").filter((l) => !l.startsWith("#") && l.includes(`${suffix}{${labels}}`));
  if (lines.length === 0) throw new Error(`no ${suffix}{${labels}} in /metrics:\n${text}`);
  return lines.reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
}

/**
 * Garbage collections of `kind` so far (prom-client's GC histogram): a kind not seen yet has no
 * series. prom-client records the first of each batch of GC entries Node hands it, so collections
 * during a busy pass count as one: good for collections seconds apart, as here.
 */
async function gcCount(port: number, kind: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  if (!text.includes("# TYPE nodejs_gc_duration_seconds histogram")) throw new Error(`no GC histogram in /metrics:\n${text}`);
  const line = text.split("\n").find((l) => l.startsWith(`nodejs_gc_duration_seconds_count{kind="${kind}"}`));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

/** VmRSS and VmHWM of `pid`, MB. */
async function residentMB(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1]) / 1024;
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

/** The main thread's voluntary context switches: each is the event loop going to sleep until woken. */
async function mainThreadWakeups(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/task/${pid}/status`, "utf8");
  return Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1]);
}

it("perch watch keeps V8's young generation at its initial size through a listing of 50,000 keys", async () => {
  const { w } = await startOverManyKeys();
  const young = await metricEndingWith(w.port, "nodejs_heap_space_size_total_bytes", 'space="new"');
  expect(young).toBeGreaterThan(0);
  expect(young).toBeLessThanOrEqual(YOUNG_GENERATION_LIMIT);
});

it("an idle perch watch wakes its event loop about once a second", async () => {
  const { w } = await startOverManyKeys();
  const pid = w.proc.pid;
  if (pid === undefined) throw new Error("perch watch has no pid");
  await waitFor("the first pass", () => w.events.find((e) => e.event === "pass"));
  // At rest: after the one collection that follows a pass (its concurrent marking wakes the loop tens of times).
  await new Promise((resolve) => setTimeout(resolve, QUIET_COLLECTION_WITHIN_MS));
  const before = await mainThreadWakeups(pid);
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  const wakeups = (await mainThreadWakeups(pid)) - before;
  expect(wakeups).toBeGreaterThan(0);
  expect(wakeups).toBeLessThanOrEqual(IDLE_WAKEUPS_LIMIT);
});

it("after a burst of changes perch watch collects its garbage once it goes quiet, and V8's memory reducer at most once more", async () => {
  const { w, dest, keys } = await startOverManyKeys();
  const majorCollections = () => gcCount(w.port, "major");
  for (let i = 0; i < BURST; i++) {
    keys["/hosts/h-0/k0"] = `burst-${i}`;
    await c?.writeKeys(keys);
    await w.waitForFile(dest, (content) => content === `first burst-${i}\n`);
  }
  const afterBurst = await majorCollections();
  await new Promise((resolve) => setTimeout(resolve, QUIET_COLLECTION_WITHIN_MS));
  const quiet = await majorCollections();
  expect(quiet - afterBurst).toBeGreaterThanOrEqual(1);
  await new Promise((resolve) => setTimeout(resolve, MEMORY_REDUCER_WINDOW_MS));
  expect((await majorCollections()) - quiet).toBeLessThanOrEqual(MEMORY_REDUCER_COLLECTIONS_LIMIT);
});

it("a burst of changes that each render every key takes perch watch's resident peak only a little above its RSS at rest", async () => {
  const { w, dest, keys } = await startOverManyKeys('first {{#each (gets "/hosts/*/*")}}{{key}}={{value}}\n{{/each}}');
  const pid = w.proc.pid;
  if (pid === undefined) throw new Error("perch watch has no pid");
  await waitFor("the first pass", () => w.events.find((e) => e.event === "pass"));
  // At rest: the listing's and the first pass's garbage collected.
  await new Promise((resolve) => setTimeout(resolve, QUIET_COLLECTION_WITHIN_MS));
  const atRest = await residentMB(pid);
  // Linux's "reset the peak resident size" (proc(5), clear_refs): VmHWM from here on is the burst's.
  await writeFile(`/proc/${pid}/clear_refs`, "5");
  for (let i = 0; i < FULL_RENDER_BURST; i++) {
    keys["/hosts/h-0/k0"] = `burst-${i}`;
    await c?.writeKeys(keys);
    await w.waitForFile(dest, (content) => content.includes(`/hosts/h-0/k0=burst-${i}\n`));
  }
  const afterBurst = await residentMB(pid);
  expect(afterBurst.hwm).toBeGreaterThan(0);
  expect(afterBurst.hwm - atRest.rss).toBeLessThanOrEqual(FULL_RENDER_BURST_PEAK_MB);
});
