// BENCHMARKS.md's footprint section (bench/suites/footprint.mjs): what `perch watch` holds and
// spends at rest, and where its memory goes.
const fmt = (x, digits = 1) => (x === undefined || x === null ? "–" : String(Math.round(x * 10 ** digits) / 10 ** digits));
const row = (cells) => `| ${cells.join(" | ")} |`;
const table = (head, rows) => [row(head), row(head.map(() => "---")), ...rows.map(row)].join("\n");
const mb = (x) => `${fmt(x)} MB`;

function runRow(label, r) {
  const idle = r.idle;
  return [
    label,
    mb(r.rssAfterSyncMB),
    mb(r.steadyRssMB),
    `${mb(r.steadyAnonMB)} / ${mb(r.steadyFileMB)}`,
    mb(r.peakRssMB),
    mb(r.rssAfterIdleMB),
    r.heap ? `${mb(r.heap.heapUsedMB)} / ${mb(r.heap.heapTotalMB)} / ${mb(r.heap.externalMB)}` : "– (no /metrics)",
    idle ? `${fmt(idle.cpuSeconds, 2)} s` : "–",
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
      `and VmHWM (peak) then; then the daemon is left alone for ${fp.idleSeconds} s: CPU is utime + stime from \`/proc/<pid>/stat\`, wakeups are voluntary context switches summed over \`/proc/<pid>/task/*\` ` +
      "(each is a thread going to sleep until something wakes it; by thread: `main` is the event loop, Node names its other threads `node`, libuv's `libuv-worker`). " +
      "The idle window starts 3 s after the last change, so it holds the garbage collections that follow activity. The V8 heap figures are the daemon's own `/metrics` read after the idle window. MB = 10^6 bytes.",
  );
  out.push("");
  const rows = [];
  for (const [size, r] of Object.entries(fp.calico)) rows.push(runRow(`${size} nodes`, r));
  if (fp.withoutListen1000) rows.push(runRow("1000 nodes, without `--listen`", fp.withoutListen1000));
  if (fp.scale) rows.push(runRow(`${fp.scaleKeys} keys`, fp.scale));
  out.push(
    table(
      ["daemon", "RSS after first pass", "steady RSS", "anon / file", "VmHWM", `RSS after ${fp.idleSeconds} s idle`, "V8 heap used / total / external", `CPU in ${fp.idleSeconds} s idle`, "wakeups/s idle (by thread)"],
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
      "Retained by perch's parts (an object's retained size is what would be freed with it: everything only it holds; weak references not followed): the mirror (`src/mirror/mirror.ts`: every key once and each view's prefix-relative copies), " +
        "the render memos (`src/template/memo.ts`: per resource, each loop site's iterations and their rendered text), the metrics registry (prom-client), the etcd store (etcd3, gRPC and protobufjs with etcd's proto files) and the log destination (sonic-boom):",
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
