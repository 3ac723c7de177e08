// README's metrics table (## `perch watch`, ### Metrics) against a live /metrics of `perch watch`:
// every perch_ metric served is in the table and every row is served, with the same type; every
// sample carries exactly the labels the table names. The daemon is taken through a failing check
// and a failing reload first, so that the labelled metrics have samples. Node's and the process's
// metrics have their standard names (no perch_ prefix), and perch_build_info says the version.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { REPO, resourceToml, useConfdir } from "../helpers/confdir.js";
import { startWatch, waitFor, type WatchProcess } from "../helpers/watch-process.js";

const c = useConfdir();
let w: WatchProcess | undefined;
afterEach(async () => {
  expect(await w?.stop()).toBe(0);
  w = undefined;
});

interface Row {
  type: string;
  labels: string[];
}

/** The rows of README's metrics table, by metric name. */
async function readmeTable(): Promise<Map<string, Row>> {
  const readme = await readFile(path.join(REPO, "README.md"), "utf8");
  const start = readme.indexOf("\n### Metrics\n");
  expect(start).toBeGreaterThan(0);
  const section = readme.slice(start, readme.indexOf("\n## ", start));
  const rows = new Map<string, Row>();
  for (const line of section.split("\n")) {
    const m = /^\| `([a-z_]+)` \| (\w+) \|([^|]*)\| .+ \|$/.exec(line);
    if (m) rows.set(m[1] as string, { type: m[2] as string, labels: [...(m[3] as string).matchAll(/`(\w+)`/g)].map((l) => l[1] as string).sort() });
  }
  return rows;
}

/** The exposition's metric types, by name, and each sample's name and label names. */
function parseExposition(text: string): { types: Map<string, string>; samples: Array<{ name: string; labels: string[]; line: string }> } {
  const types = new Map<string, string>();
  const samples: Array<{ name: string; labels: string[]; line: string }> = [];
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] as string, type[2] as string);
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? \S+$/.exec(line);
    if (sample) samples.push({ name: sample[1] as string, labels: [...(sample[2] ?? "").matchAll(/(\w+)="/g)].map((l) => l[1] as string), line });
  }
  return { types, samples };
}

it("README's metrics table matches a live /metrics: names, types and labels", async () => {
  const checkFlag = path.join(c.dir, "check-ok");
  const reloadFlag = path.join(c.dir, "reload-ok");
  await c.writeTemplate("t.hbs", '{{getv "/k"}}\n');
  await c.writeResource("checked", resourceToml("t.hbs", path.join(c.out, "checked.cfg"), ["/k"], `check_cmd = "test -e ${checkFlag}"`));
  await c.writeResource("reloaded", resourceToml("t.hbs", path.join(c.out, "reloaded.cfg"), ["/k"], `reload_cmd = "test -e ${reloadFlag}"`));
  await c.writeKeys({ "/k": "v" });
  w = await startWatch(["--confdir", c.dir, "--backend", "file", "--keys", c.keysFile, "--wait", "10ms:50ms"]);
  const live = w;
  await waitFor("a pending reload retry", async () => ((await live.metric("perch_reload_retry_pending")) === 1 ? true : undefined));
  await waitFor("a failing resource", async () => ((await live.metric("perch_resource_failing")) === 1 ? true : undefined));
  const scrape = async () => (await fetch(`http://127.0.0.1:${live.port}/metrics`)).text();
  const whileFailing = await scrape();
  // A configuration reload, then the failures fixed: the other labelled counters get samples too.
  live.signal("SIGHUP");
  await live.waitForEvent((e) => e.event === "config-reload" && e.outcome === "applied");
  await writeFile(checkFlag, "");
  await writeFile(reloadFlag, "");
  await waitFor("the check to pass", async () => ((await live.metric("perch_checks_total", { outcome: "ok" })) >= 1 ? true : undefined));
  await live.waitForEvent((e) => e.event === "reload" && e.outcome === "recovered", 10_000);

  // Read while both failed (the retry and failing gauges, removed once fixed) and after: the union of what was served.
  const text = await scrape();
  const { types, samples } = parseExposition(text);
  samples.push(...parseExposition(whileFailing).samples);
  const table = await readmeTable();

  const served = [...types].filter(([name]) => name.startsWith("perch_"));
  expect(served.map(([name]) => name).sort()).toEqual([...table.keys()].sort());
  for (const [name, type] of served) expect(`${name}: ${type}`).toBe(`${name}: ${table.get(name)?.type}`);

  for (const s of samples.filter((x) => x.name.startsWith("perch_"))) {
    const base = types.has(s.name) ? s.name : s.name.replace(/_(bucket|sum|count)$/, "");
    expect(`${s.line} → ${s.labels.filter((l) => l !== "le").sort().join(",")}`).toBe(`${s.line} → ${table.get(base)?.labels.join(",")}`);
  }
  // Every perch_ metric was seen, so every row's labels were checked (the SIGHUP's listing is a resync).
  const sampled = new Set(samples.map((s) => s.name.replace(/_(bucket|sum|count)$/, "")));
  expect([...table.keys()].filter((name) => !sampled.has(name))).toEqual([]);

  // Standard names for Node's and the process's metrics, as README says; none under perch_.
  for (const name of ["process_cpu_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds"]) expect(types.has(name), name).toBe(true);
  expect(text).not.toMatch(/^perch_process_/m);
  const { version } = JSON.parse(await readFile(path.join(REPO, "package.json"), "utf8")) as { version: string };
  expect(text).toContain(`perch_build_info{version="${version}",node="${process.versions.node}"} 1\n`);
  expect(await live.metric("perch_reloads_total", { command: `test -e ${reloadFlag}`, outcome: "failed" })).toBeGreaterThanOrEqual(1);
}, 60_000);
