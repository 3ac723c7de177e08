// BENCHMARKS.md's generic-templates section (bench/suites/generic.mjs): put → file per template shape and key count,
// perch's own share beside the etcd put, and the slowest changes taken apart.
const fmt = (x, digits = 2) => (x === undefined || x === null ? "–" : String(Math.round(x * 10 ** digits) / 10 ** digits));
const ms = (x) => (x === undefined || x === null ? "–" : `${fmt(x)} ms`);
const row = (cells) => `| ${cells.join(" | ")} |`;
const table = (head, rows) => [row(head), row(head.map(() => "---")), ...rows.map(row)].join("\n");
const KINDS = [
  ["value", "value change"],
  ["added", "added key"],
];

export function genericSection(generic) {
  if (!generic) return [];
  const out = [];
  out.push("## Generic templates (not the Calico set)");
  out.push("");
  out.push(
    "N keys under `/generic/pool` (JSON values `{\"cidr\":…,\"ports\":[…]}`), one resource per template shape and one `perch watch --wait 0ms:0ms` per shape and size " +
      "(file backend not used: etcd, as in the watch-latency section, timed the same way). Shapes (`bench/suites/generic.mjs`): **gets-json** " +
      "`{{#each (gets …)}}{{#with (json value)}}{{this.cidr}}{{/with}}{{/each}}`; **ls-getv** `{{#each (ls …)}}{{getv (concat … this)}}{{/each}}`; **nested** a loop over each value's " +
      "ports inside the gets loop, reading `../cidr`; **index** a getvs loop printing `@index` inside `#let` (an added key renumbers every later iteration, which must re-render). " +
      "A value change puts a new value to an existing key; an added key puts a key that was not there (removed again, untimed). Render and write are the daemon's medians from its log; " +
      "perch's own share is each change's put → file minus that put's round trip to etcd; put → daemon is when the daemon logged the change, by its clock; GC is the pauses the daemon's `--trace-gc` logged during a change, summed per change (its p99 and max over the changes).",
  );
  out.push("");
  const rows = [];
  const slowest = [];
  for (const [size, shapes] of Object.entries(generic)) {
    for (const [shape, r] of Object.entries(shapes)) {
      for (const [kind, what] of KINDS) {
        const k = r[kind];
        const own = k.ownShareMs;
        rows.push([size, shape, what, r.changes, ms(k.latencyMs.p50), ms(k.latencyMs.p99), ms(k.latencyMs.max), own ? `${ms(own.p50)} / ${ms(own.p99)}` : "–", ms(k.renderMedianMs), ms(k.writeMedianMs), `${ms(k.putRoundTripMs.p50)} / ${ms(k.putRoundTripMs.p99)}`, ms(k.changeLoggedMedianMs), k.gcMs ? `${ms(k.gcMs.p99)} / ${ms(k.gcMs.max)}` : "–"]);
        for (const s of k.slowest ?? []) {
          const gc = s.gcMs > 0 ? `${ms(s.gcMs)} (${s.gcKinds.join(", ")})` : "–";
          slowest.push([size, shape, what, ms(s.fromPutMs), ms(s.putMs), ms(s.changeLoggedMs), ms(s.toDaemonMs), ms(s.renderMs), ms(s.writeMs), ms(s.fsyncMs), gc, ms(s.passRestMs), ms(s.noticeMs), s.byEvent ? "rename" : "poll"]);
        }
      }
    }
  }
  out.push(table(["keys", "shape", "change", "changes", "p50", "p99", "max", "perch's own share p50 / p99", "render (median)", "write (median)", "etcd put round trip p50 / p99", "put → daemon (median)", "GC in a change p99 / max"], rows));
  out.push("");
  if (slowest.length > 0) {
    out.push(
      "The tail: each case's slowest changes of each kind (with 200 changes a kind, the p99 is the third slowest). Put → daemon is when the daemon " +
        "logged the change (its clock, to the millisecond: etcd's commit, the watch event's delivery, the mirror's update), read here when the bench " +
        "read that log line (an upper bound: a line can wait in the pipe); write holds the stage file's fsync; GC is the pauses logged during the change " +
        "(they fall inside the other columns); the rest of the pass is the daemon's time from the change logged to the write logged, less the render and the write " +
        "(handing the change to the pass, its setup, logging); file seen is put → file minus put → write logged (the bench noticing the rename: " +
        "`poll` where no rename event was stamped and the read of its 100 ms poll timed the change; below zero by the directory fsync, which the write holds after the rename). A slow put is etcd's commit (or the machine's " +
        "other processes holding the cores) before perch is told; a slow fsync waited on the disk, which etcd's own fsyncs share:",
    );
    out.push("");
    out.push(table(["keys", "shape", "change", "put → file", "etcd put round trip", "put → daemon", "read here", "render", "write", "stage fsync", "GC", "rest of the pass", "file seen", "seen by"], slowest));
    out.push("");
  }
  return out;
}
