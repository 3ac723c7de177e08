// BENCHMARKS.md's footprint section (bench/suites/footprint.mjs): what `perch watch` holds and
// spends at rest, and where its memory goes.
const fmt = (x, digits = 1) => (x === undefined || x === null ? "–" : String(Math.round(x * 10 ** digits) / 10 ** digits));
const row = (cells) => `| ${cells.join(" | ")} |`;
const table = (head, rows) => [row(head), row(head.map(() => "---")), ...rows.map(row)].join("\n");
const mb = (x) => `${fmt(x)} MB`;
const delta = (x) => `${x >= 0 ? "+" : ""}${fmt(x)} MB`;

/** What each stage of bench/lib/footprint-stages.mjs adds. */
const STAGES = {
  node: "Node, before anything of perch's is imported",
  modules: "the watch command's modules and what they import: the daemon, mirror, memo, renderer, writer, Handlebars' runtime, pino, prom-client, execa",
  logger: "the logger (pino, its sonic-boom destination)",
  metrics: "the metrics registry with prom-client's default metrics",
  "etcd client": "the etcd store: etcd3, grpc-js and protobufjs loaded (with etcd's .proto files) and a client made",
  templates: "conf.d read, the templates compiled (from the compile cache)",
  mirror: "the listing, and the mirror holding it (every key once, each view's prefix-relative copies)",
  "first pass": "the first pass: every resource rendered, the memos holding each loop site's iterations and output",
  changes: "20 address changes applied to the mirror and rendered",
};

function runRow(label, r, floor) {
  const idle = r.idle;
  return [
    label,
    mb(r.rssAfterSyncMB),
    mb(r.steadyRssMB),
    floor ? mb(r.steadyRssMB - floor.rssMB) : "–",
    `${mb(r.steadyAnonMB)} / ${mb(r.steadyFileMB)}`,
    mb(r.peakRssMB),
    mb(r.rssAfterIdleMB),
    r.heap ? `${mb(r.heap.heapUsedMB)} / ${mb(r.heap.heapTotalMB)} / ${mb(r.heap.externalMB)}` : "– (no /metrics)",
    idle ? `${fmt(idle.cpuSeconds, 2)} s${idle.cpuBySlice?.length > 1 ? ` (${idle.cpuBySlice.map((c) => fmt(c, 2)).join(" + ")})` : ""}` : "–",
    idle ? `${fmt(idle.wakeupsPerSecond)} (${Object.entries(idle.wakeupsByThread).map(([t, n]) => `${t} ${n}`).join(", ")})` : "–",
  ];
}

/** The section's lines, or none when the suite did not run. */
export function footprintSection(results) {
  const fp = results.footprint;
  if (!fp) return [];
  const out = [];
  out.push("## Footprint: `perch watch` at rest");
  out.push("");
  out.push(
    `\`perch watch --listen … --sync-only\` as the DaemonSet in docs/deploy.md runs it, one daemon per case: the shipped set over the clusters above, and \`bench/scale/\` over 100,000 keys (as in the scale section). ` +
      `RSS (VmRSS, of which RssAnon / RssFile) from \`/proc/<pid>/status\` after the first pass, then after 2 s, ${fp.changes} changes (remote nodes' new addresses, each waited for in the rendered file) and 3 s more (steady), ` +
      `and VmHWM (peak) then; then the daemon is left alone for ${fp.idleSeconds} s: CPU is utime + stime from \`/proc/<pid>/stat\` (in all, and per 10 s of the window), wakeups are voluntary context switches summed over \`/proc/<pid>/task/*\` ` +
      "(each is a thread going to sleep until something wakes it; by thread: `main` is the event loop, Node names its other threads `node`, libuv's `libuv-worker`). " +
      "The idle window starts 3 s after the last change, so it holds the garbage collections that follow activity. The V8 heap figures are the daemon's own `/metrics` read after the idle window. MB = 10^6 bytes.",
  );
  out.push("");
  const floor = fp.etcdClientFloor;
  if (floor) {
    out.push(
      `Perch's own share is the steady RSS less a floor measured in the same run: Node with the etcd client the daemon uses (\`bench/lib/etcd-client-floor.mjs\`: etcd3 loaded, a client made, one watch open, nothing of perch's) holds ${mb(floor.rssMB)} ` +
        `(${mb(floor.anonMB)} anonymous / ${mb(floor.fileMB)} file-backed). The targets stay on the whole RSS; the share is what perch's own code and data add.`,
    );
    out.push("");
  }
  const rows = [];
  for (const [size, r] of Object.entries(fp.calico)) rows.push(runRow(`${size} nodes`, r, floor));
  if (fp.withoutListen1000) rows.push(runRow("1000 nodes, without `--listen`", fp.withoutListen1000, floor));
  if (fp.scale) rows.push(runRow(`${fp.scaleKeys} keys`, fp.scale, floor));
  out.push(
    table(
      ["daemon", "RSS after first pass", "steady RSS", "perch's share (steady − Node + etcd client)", "anon / file", "VmHWM", `RSS after ${fp.idleSeconds} s idle`, "V8 heap used / total / external", `CPU in ${fp.idleSeconds} s idle`, "wakeups/s idle (by thread)"],
      rows,
    ),
  );
  out.push("");
  out.push("### Where the memory goes");
  out.push("");
  if (fp.bareNode) {
    out.push(
      `A Node process that loads nothing and waits (\`node -e "setTimeout(…)"\`, same binary): ${mb(fp.bareNode.rssMB)} RSS, of which ${mb(fp.bareNode.fileMB)} file-backed ` +
        "(the pages of the `node` binary it has touched; shared with every other Node process through the page cache) and " +
        `${mb(fp.bareNode.anonMB)} anonymous. Every figure above starts from there; loading and compiling JavaScript touches more of the binary (V8's parser and compilers), hence the daemons' larger RssFile.`,
    );
    out.push("");
  }
  const st = fp.stages1000;
  if (st) {
    out.push(
      "The parts one at a time (`bench/lib/footprint-stages.mjs`, 1,000 nodes): a process that builds what `perch watch` builds, from `dist/` (the modules the bundle is made of; " +
        "the daemon loads one bundle instead, whose source V8 keeps as one string), measuring after each part and a full garbage collection. The heap column is what stays alive; " +
        "the committed column is what V8 holds from the system for its heap after that collection (the pages a part's garbage filled stay committed: a full collection frees " +
        "the objects, and only a memory-reducing one, which V8 runs by itself seconds after activity, compacts and gives the emptied pages back); " +
        "the RSS column also holds what the part's loading and garbage left resident, which V8 and malloc keep:",
    );
    out.push("");
    out.push(
      table(
        ["stage", "V8 heap in use", "added", "V8 heap committed", "added", "external", "RSS", "added"],
        st.map((x, i) => {
          const added = (field) => (i === 0 || x[field] === undefined ? "" : delta(x[field] - st[i - 1][field]));
          return [STAGES[x.stage] ?? x.stage, mb(x.heapUsedMB), added("heapUsedMB"), mb(x.heapTotalMB), added("heapTotalMB"), mb(x.externalMB), mb(x.rssMB), added("rssMB")];
        }),
      ),
    );
    out.push("");
  }
  const s = fp.heapSnapshot1000;
  if (s) {
    out.push(
      "A heap snapshot of the 1,000-node daemon (a separate run: `--heapsnapshot-signal`, taken where the idle window would start; `bench/lib/heap-snapshot.mjs`). " +
        `Reachable objects: ${mb(s.totalMB)}. By kind (self sizes; \`code\` is bytecode and compiled code, \`string\` includes the bundle's own source, which V8 keeps to compile functions lazily):`,
    );
    out.push("");
    out.push(table(["kind", "self size"], Object.entries(s.byKind).filter(([, v]) => v >= 0.1).map(([k, v]) => [k, mb(v)])));
    out.push("");
    out.push(
      "Retained (what would be freed with an object: everything only it holds, weak references not followed) by the daemon (`src/watch/daemon.ts`), and of that by " +
        "the mirror (`src/mirror/mirror.ts`: every key once), its views (`KeyIndex`: each view's prefix-relative keys) and the render memos (`src/template/memo.ts`: per resource, each loop site's iterations and their rendered text). " +
        "What two of them share (a string held by the mirror and by a memo) counts only in what holds both, here the daemon; the etcd client, the metrics and the logger are reached through module scope, not the daemon (the stage table has them):",
    );
    out.push("");
    out.push(table(["class", "instances", "retained"], s.classes.map((c) => [`\`${c.name}\``, c.count, mb(c.retainedMB)])));
    out.push("");
    out.push("The largest single retainers:");
    out.push("");
    out.push(table(["kind", "name", "retained", "self"], s.largest.slice(0, 12).map((l) => [l.kind, `\`${l.name.replaceAll("|", "\\|").replaceAll("`", "'")}\``, mb(l.retainedMB), mb(l.selfMB)])));
    out.push("");
  }
  return out;
}
