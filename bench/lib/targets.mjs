// The targets (for a 2-core machine) and whether the measured figures hold them. Each row reads
// its figure from the results; a row whose measurement was not run is left out.

const BURST_WAIT_MAX_MS = 500;

function latencyTargets(size, p50, p99) {
  const n = size.toLocaleString("en-US");
  const rows = [];
  for (const [kind, what, variants] of [
    ["ip", "a node's address changes (full-mesh bird.cfg)", ["shipped", "noCheck"]],
    ["block", "a new block for this node (bird_aggr.cfg)", ["shipped"]],
  ]) {
    for (const variant of variants) {
      const set = variant === "shipped" ? "shipped set" : "conf.d without check_cmd";
      for (const [q, limit] of [["p50", p50], ["p99", p99]]) {
        rows.push({
          id: `latency-${size}-${kind}-${q}${variant === "shipped" ? "" : "-nocheck"}`,
          measurement: `watch latency, ${n} nodes, ${what}, ${q} (${set})`,
          target: `≤ ${limit} ms`,
          limit,
          get: (r) => r.latency?.[size]?.[variant]?.byKind[kind][q],
          unit: "ms",
        });
      }
    }
  }
  return rows;
}

/**
 * Issue [11]: the shipped set's put → file less the floors outside perch measured in the same run
 * (the etcd put's round trip, bird -p alone on the installed set).
 */
function ownShareTargets(size) {
  const n = size.toLocaleString("en-US");
  return [
    ["ip", "a node's address changes"],
    ["block", "a new block for this node"],
  ].flatMap(([kind, what]) =>
    [
      ["p50", 2],
      ["p99", 6],
    ].map(([q, limit]) => ({
      id: `own-share-${size}-${kind}-${q}`,
      measurement: `perch's own share of the watch latency, ${n} nodes, ${what}, ${q} (shipped set: put → file minus the put's round trip and bird -p alone)`,
      target: `≤ ${limit} ms`,
      limit,
      get: (r) => r.latency?.[size]?.shipped?.ownShareByKind?.[kind][q],
      unit: "ms",
    })),
  );
}

/** A burst of 1,000 changes in 1 s at `size` nodes: at most 3 reloads, and the final file soon after. */
function burstTargets(size) {
  const nodes = size.toLocaleString("en");
  return [
    { id: `burst-${size}-reloads`, measurement: `burst of 1,000 changes in 1 s, ${nodes} nodes: reloads`, target: "≤ 3", limit: 3, get: (r) => r.burst?.[size]?.reloads, unit: "" },
    {
      id: `burst-${size}-final`,
      measurement: `burst, ${nodes} nodes: last change → final file`,
      target: `≤ wait.max + 200 ms = ${BURST_WAIT_MAX_MS + 200} ms`,
      limit: BURST_WAIT_MAX_MS + 200,
      get: (r) => r.burst?.[size]?.lastChangeToFinalFileMs,
      unit: "ms",
    },
  ];
}

/**
 * `--calico-v3` at `size` nodes: a remote Node's address change (the Node resource put) against the
 * same change in the v1 model (its ip_addr_v4 put), measured side by side in one run.
 */
function calicoV3LatencyTargets(size) {
  const n = size.toLocaleString("en-US");
  return [
    ["shipped", "shipped set", ""],
    ["noCheck", "conf.d without check_cmd", "-nocheck"],
  ].map(([variant, set, suffix]) => ({
    id: `calico-v3-latency-${size}-p50${suffix}`,
    measurement: `watch latency, ${n} nodes, --calico-v3: a Node's address changes (full-mesh bird.cfg), p50 minus the v1 model's p50 for the same changes (${set})`,
    target: "≤ 2 ms",
    limit: 2,
    get: (r) => r.calicoV3?.[size]?.latency?.[variant]?.p50DeltaMs,
    unit: "ms",
  }));
}

/** Issue [11]: a cold `perch render` as users run it, without NODE_EXTRA_CA_CERTS (bench/suites/oneshot.mjs). */
const ONESHOT_TARGETS = [
  {
    id: "oneshot-etcd-1000-wall",
    measurement: "cold one-shot from etcd, 1,000 nodes: median wall (shipped set, with check_cmd; no NODE_EXTRA_CA_CERTS)",
    target: "≤ 200 ms",
    limit: 200,
    get: (r) => r.oneshot?.etcd?.[1000]?.shipped?.medianWallMs,
    unit: "ms",
  },
  {
    id: "oneshot-etcd-1000-rss",
    measurement: "cold one-shot from etcd, 1,000 nodes: median peak RSS",
    target: "≤ 120 MB",
    limit: 120,
    get: (r) => r.oneshot?.etcd?.[1000]?.shipped?.medianMaxRssMB,
    unit: "MB",
  },
  {
    id: "oneshot-example-wall",
    measurement: "cold one-shot, the example (file store, `npm start`'s command): median wall (no NODE_EXTRA_CA_CERTS)",
    target: "≤ 90 ms",
    limit: 90,
    get: (r) => r.oneshot?.example?.medianWallMs,
    unit: "ms",
  },
];

/** The footprint suite's runs that have an idle window. */
const idleRuns = (r) => (r.footprint ? [...Object.values(r.footprint.calico), r.footprint.withoutListen1000, r.footprint.scale].filter((run) => run?.idle) : []);
const worstIdle = (r, f) => (idleRuns(r).length === 0 ? undefined : Math.max(...idleRuns(r).map((run) => f(run.idle))));

/** Issue [13]: what an idle `perch watch` holds and spends (bench/suites/footprint.mjs). */
/** Information beside an RSS figure, not a target: what it is above Node + the etcd client, measured in the same run. */
function ownShareNote(figure) {
  return (r) => {
    const floor = r.footprint?.etcdClientFloor?.rssMB;
    const value = figure(r);
    return floor === undefined || value === undefined ? undefined : `perch's own share ${Math.round((value - floor) * 10) / 10} MB above Node + the etcd client's ${floor} MB`;
  };
}

const FOOTPRINT_TARGETS = [
  ...[
    ["footprint-1000-rss", "steady RSS of perch watch, 1,000 nodes (shipped set, after 20 changes)", 60, (r) => r.footprint?.calico[1000]?.steadyRssMB],
    ["footprint-5000-rss", "steady RSS of perch watch, 5,000 nodes", 80, (r) => r.footprint?.calico[5000]?.steadyRssMB],
    ["footprint-5000-hwm", "VmHWM of perch watch, 5,000 nodes", 100, (r) => r.footprint?.calico[5000]?.peakRssMB],
    ["footprint-100k-rss", "steady RSS of perch watch, 100,000 keys", 120, (r) => r.footprint?.scale?.steadyRssMB],
  ].map(([id, measurement, limit, get]) => ({ id, measurement, target: `≤ ${limit} MB`, limit, get, unit: "MB", note: ownShareNote(get) })),
  {
    id: "footprint-idle-cpu",
    measurement: "idle perch watch: CPU over 60 s (the most of the footprint runs)",
    target: "≤ 0.1 s",
    limit: 0.1,
    get: (r) => (r.footprint?.idleSeconds === 60 ? worstIdle(r, (idle) => idle.cpuSeconds) : undefined),
    unit: "s",
  },
  { id: "footprint-idle-wakeups", measurement: "idle perch watch: wakeups per second (the most of the footprint runs)", target: "≤ 5", limit: 5, get: (r) => worstIdle(r, (idle) => idle.wakeupsPerSecond), unit: "/s" },
];

/** Generic templates (bench/suites/generic.mjs), the gets + json loop: put → file at 10,000 keys, and render growth. */
function genericTargets() {
  const row = (kind, what, q, limit) => ({
    id: `generic-10000-${kind}-${q}`,
    measurement: `generic templates, 10,000 keys, ${what} → file, ${q} (gets loop with json)`,
    target: `≤ ${limit} ms`,
    limit,
    get: (r) => r.generic?.[10000]?.["gets-json"]?.[kind]?.latencyMs[q],
    unit: "ms",
  });
  return [
    row("value", "a value change", "p50", 4),
    row("value", "a value change", "p99", 12),
    row("added", "an added key", "p50", 6),
    row("added", "an added key", "p99", 15),
    {
      id: "generic-render-growth",
      measurement: "generic templates, one change's render (median, daemon's log) at 100,000 keys ÷ at 1,000 keys (gets loop with json, value change)",
      target: "≤ 2×",
      limit: 2,
      get: (r) => {
        const at = (n) => r.generic?.[n]?.["gets-json"]?.value.renderMedianMs;
        return at(100000) === undefined || !at(1000) ? undefined : Math.round((at(100000) / at(1000)) * 10) / 10;
      },
      unit: "×",
    },
  ];
}

export const TARGETS = [
  ...latencyTargets(1000, 5, 15),
  ...latencyTargets(5000, 15, 40),
  ...burstTargets(1000),
  ...burstTargets(5000),
  {
    id: "etcd-ranges",
    measurement: "etcd Range requests per change, steady state (1,000 nodes)",
    target: "0",
    limit: 0,
    get: (r) => r.etcdLoad?.withDaemon.rangesPerChange,
    unit: "",
  },
  {
    id: "scale-sync",
    measurement: "initial sync of 100,000 keys (daemon start → first pass done)",
    target: "≤ 2 s",
    limit: 2000,
    get: (r) => r.scale?.startToFirstPassMs,
    unit: "ms",
  },
  {
    id: "scale-rss",
    measurement: "steady RSS with 100,000 keys",
    target: "≤ 200 MB",
    limit: 200,
    get: (r) => r.scale?.steadyRssMB,
    unit: "MB",
  },
  ...ONESHOT_TARGETS,
  {
    id: "calico-v3-sync-5000",
    measurement: "initial sync of 5,000 nodes in Calico's v3 datastore, --calico-v3 (daemon start → first pass done, shipped set)",
    target: "≤ 2 s",
    limit: 2000,
    get: (r) => r.calicoV3?.[5000]?.sync?.v3.startToFirstPassMs,
    unit: "ms",
  },
  ...calicoV3LatencyTargets(1000),
  ...calicoV3LatencyTargets(5000),
  ...ownShareTargets(1000),
  ...ownShareTargets(5000),
  ...FOOTPRINT_TARGETS,
  ...genericTargets(),
];

/** [{id, measurement, target, figure, held}] for every target whose figure was measured. */
export function evaluateTargets(results) {
  const rows = [];
  for (const t of TARGETS) {
    const value = t.get(results);
    if (value === undefined || value === null) continue;
    const note = t.note?.(results);
    rows.push({ id: t.id, measurement: t.measurement, target: t.target, value, figure: `${value}${t.unit ? ` ${t.unit}` : ""}${note ? ` (${note})` : ""}`, held: value <= t.limit });
  }
  return rows;
}
