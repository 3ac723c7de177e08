// Hand-written analysis of the targets that miss, shown in BENCHMARKS.md only while they miss.
// Text only — every figure in BENCHMARKS.md comes from a run, none from here. Each entry names
// the profiles (bench/results/profiles/<name>) whose summaries are printed under it.

export const FINDINGS = [
  {
    title: "Watch latency of an address change: the render is incremental now; BIRD's check, the file write and etcd's commit remain",
    targets: [
      "latency-1000-ip-p50",
      "latency-1000-ip-p99",
      "latency-1000-ip-p50-nocheck",
      "latency-1000-ip-p99-nocheck",
      "latency-5000-ip-p50",
      "latency-5000-ip-p99",
      "latency-5000-ip-p50-nocheck",
      "latency-5000-ip-p99-nocheck",
    ],
    profiles: ["latency-5000", "latency-1000"],
    text: `
What was done: the first run of this bench (see "Before and after") re-rendered the whole full-mesh \`bird.cfg\` on every change. perch
now renders incrementally (\`src/template/memo.ts\`): in watch mode each iteration of an outermost \`{{#each}}\` is remembered with the
keys, listings and globs it read, a change marks stale only the iterations that read it (a reader index kept by the view's change
versions, \`src/mirror/versions.ts\`), and everything else is reused; directory listings are cached until a key below them comes or goes.
The render column of the anatomy table is what is left of the render. Templates were also compiled once instead of twice, and the
listing pages grew.

What remains, by the anatomy table:
- **\`check_cmd\`** (the shipped set's rows): \`bird -p -c\` parses the whole staged file before it is installed (DESIGN.md "Writing files"),
  a process spawn plus BIRD reading every peer; it grows with the cluster and is most of the shipped set's time at 5,000 nodes. It is the
  safety the design asks for (a file BIRD rejects is never installed); the "without check_cmd" rows show perch's own share.
- **The write**: the whole file (about a megabyte at 5,000 nodes) is staged, fsynced, renamed and its directory fsynced; the fsyncs wait on
  this machine's disk. \`writeFile\` (\`src/write/write-file.ts\`) also reads the old file to compare bytes; keeping the last written bytes'
  hash with the file's \`lstat\` per destination would save that read.
- **etcd's commit and the watch delivery** ("put → daemon"): a constant share outside perch (etcd's WAL fsync on the same disk).
- **The tail** (p99) comes from the machine: its two cores are shared with etcd, the bench and whatever else runs (see the load average
  at the top), and fsync latency varies.
- \`bird6.cfg\` is marked dirty by IPv4 host keys too (its keys cover \`/host\`); it renders incrementally and unchanged after
  \`bird.cfg\` is installed, so it does not delay this change's file, only the next pass. Marking a resource dirty by what its last render
  read (the memo knows) would avoid even that.
`,
  },
  {
    title: "Watch latency of a new block: etcd's commit plus the atomic writer's file-system calls",
    targets: ["latency-1000-block-p50", "latency-1000-block-p99", "latency-5000-block-p50", "latency-5000-block-p99"],
    profiles: [],
    text: `
\`bird_aggr.cfg\` is small; the anatomy table shows the rest: "put → daemon" (about the etcd put's own round trip, i.e. etcd's WAL fsync on
this machine's disk, before the event is even sent) and the write: \`writeFile\` (\`src/write/write-file.ts\`) makes a chain of sequential
file-system calls for every install — \`lstat\` and a read of the old file, the stage file's \`open\`, write, \`fsync\` and \`close\`,
\`rename\`, and an \`fsync\` of the directory — each a round trip through libuv's thread pool, two of them waits on the disk. The tail comes from
the shared machine. Still open: compare against the last written bytes kept in memory (re-reading only when the file's \`lstat\` differs),
and skip the \`stat\` of a file this process has just created.
`,
  },
  {
    title: "Cold one-shot: Node's start-up, module loading, and the etcd client's gRPC stack",
    targets: ["oneshot-etcd-1000-wall", "oneshot-etcd-1000-rss", "oneshot-example-wall"],
    profiles: ["oneshot-etcd-1000", "oneshot-example"],
    text: `
What was done since the first run: each command's modules are imported only when it runs (\`src/cli/main.ts\`: no daemon, \`prom-client\` or
\`chokidar\` for a render); \`execa\` is imported on the first command (\`src/write/run-command.ts\`); templates are compiled once, and the
generated code is cached on disk keyed by the template's hash (\`src/template/spec-cache.ts\`), so a repeated cold render compiles nothing.

What remains, by the profiles:
- **Module loading** (\`node:internal/modules\` in the profiles) and Node's own start-up: a floor for every process, including the
  example's; the 150 ms target leaves little above it on this machine. The shipped CLI is an esbuild bundle (\`scripts/bundle.mjs\`:
  \`dist/bundle/perch.js\` and a few chunks instead of ~200 modules; the profiles are mapped back to \`src/\` and the packages through
  its source maps). Node 22's module compile cache would cut it further; not in place.
- **The etcd client stack**: \`src/store/etcd-store.ts\` loads \`etcd3\`, which loads \`@grpc/grpc-js\` and \`protobufjs\` and builds etcd's
  protobuf types at import (\`protobufjs\`, \`@grpc/grpc-js\`, \`long\` in the profile). It is already imported only for the etcd backend, but
  every etcd render pays it, and it is what puts the etcd one-shot's time and memory above the file store's. For a one-shot \`list\` (a
  paginated Range, no watch), etcd's JSON gateway (\`POST /v3/kv/range\` with base64 keys, over \`node:https\` for TLS) would avoid that
  stack entirely; not done.
- **\`check_cmd\`**: the shipped set runs \`bird -p -c\` twice (bird.cfg, bird6.cfg) and loads \`execa\` for it; the "without check_cmd" rows
  show the difference.
`,
  },
  {
    title: "100,000 keys: the listing's pages and the mirror",
    targets: ["scale-sync", "scale-rss"],
    profiles: ["scale-100k"],
    text: `
The listing (\`EtcdStore.listAtOneRevision\`, \`src/store/etcd-store.ts\`) reads pages of 5,000 keys at one revision. etcd 3.4's cost per
limited Range grows with the rest of the range, so fewer pages list faster; but larger pages raise the daemon's memory high-water mark (the
decoded responses), which V8 does not give back: pages of 10,000 keys listed faster and held the RSS above 200 MB. The mirror holds every key
once plus one prefix-relative copy per resource view.
`,
  },
];
