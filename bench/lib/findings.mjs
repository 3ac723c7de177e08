// Hand-written analysis of the targets that miss, shown in BENCHMARKS.md only while they miss.
// Text only — every figure in BENCHMARKS.md comes from a run, none from here. Each entry names
// the profiles (bench/results/profiles/<name>) whose summaries are printed under it.

export const FINDINGS = [
  {
    title: "Watch latency of an address change: bird.cfg is re-rendered whole, then checked whole",
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
The anatomy table above shows where an address change's time goes: etcd's commit and the watch delivery are a small, constant share; the
render of \`bird.cfg\` and its \`check_cmd\` grow with the cluster and make up nearly all the rest.

- **The render is O(nodes) per change.** \`runPass\` → \`processResource\` (\`src/render/pass.ts\`) → \`renderResource\` →
  \`CompiledTemplate.render\` (\`src/template/compile.ts\`) evaluates \`templates/bird.cfg.hbs\` from scratch, so one changed address costs the
  whole \`{{#each (lsdir "/host")}}\` mesh loop: per node several store lookups on keys built with \`printf\` (\`exists\`, \`getv\` of
  \`ip_addr_v4\`, \`listen_port\` with its global fallback, \`as_num\`), the \`ipv4\`/\`asn\`/\`port\` formatters, \`split\`/\`join\`, \`gt\`,
  and a \`let\` frame. In the profile the time is spread over exactly that: \`printf\` (\`src/template/helpers/general.ts\`, a
  \`format.replace(/%(.?)/gsu, callback)\` on every call), Handlebars' per-block machinery (\`prog\`, \`wrapper\`, \`extend\`,
  \`lookupProperty\`), perch's helper wrapper \`wrapHelper\` (\`src/template/compile.ts\`: rest arguments, \`pop\`, arity check, try/catch on
  every helper call), \`KeyIndex.has\`/\`get\` on freshly concatenated key strings, \`KeyIndex.children\` (\`lsdir "/host"\` walks every key
  under \`/host\` on every render) and the garbage collector (frames, key strings, argument arrays). No single hot spot: micro-optimising
  these helps by a factor, not by the order of magnitude the targets need.
- **bird6.cfg is re-rendered for an IPv4 change.** \`Mirror.apply\` (\`src/mirror/mirror.ts\`) marks every resource whose key paths cover
  the changed key, and \`bird6.toml\` reads \`/host\` too, so each address change renders the full-mesh \`bird6.cfg\` as well (unchanged bytes,
  no write). It runs after \`bird.cfg\` is installed (conf.d order), so it does not delay this change's file, but it doubles the pass and
  delays whatever change comes next.
- **check_cmd re-parses the whole file.** \`writeFile\` (\`src/write/write-file.ts\`) runs \`bird -p -c\` through \`/bin/sh\` (execa) on the
  staged file before the rename (DESIGN.md "Writing files"): a process spawn plus BIRD parsing every peer. While \`check_cmd\` stays in the
  install path, the 5,000-node targets cannot hold whatever the renderer does; the "without check_cmd" rows show the renderer's share alone.

Suggested fixes, in order of effect:
1. **Incremental rendering of the mesh.** Let the store helpers (\`src/template/helpers/store.ts\`) record the keys (and listed
   directories) each block reads, and add a memoising block helper — e.g. \`{{#eachMemo (lsdir "/host") as |host|}}\` in
   \`src/template/compile.ts\` — that keeps each iteration's output with its read set and the outer \`@data\` it used, re-rendering only the
   iterations whose keys changed and joining cached strings for the rest. A change to one node then costs one peer block plus a string
   join, instead of the whole mesh.
2. **Dirty marking by what a render read.** Record each resource's read set in \`processResource\` (\`src/render/pass.ts\`) and have
   \`Mirror.apply\` (\`src/mirror/mirror.ts\`) mark a resource only when a changed key was read, or a key was added to or removed from a
   directory it listed or a glob it matched. An IPv4 address change then renders \`bird.cfg\` alone.
3. **Cheaper helper calls** (a constant factor): \`printf\` — compile each distinct format once into a list of literal parts and verbs
   (a \`Map\` cache) instead of a regex replace per call; \`wrapHelper\` — fixed-arity wrappers without rest/\`pop\`; \`letHelper\` — no
   \`Object.entries\` per call; \`KeyIndex.children\` — cache child lists per directory, invalidated only when a key is added or removed
   (the set of nodes does not change when an address does).
`,
  },
  {
    title: "Watch latency of a new block: etcd's commit plus the atomic writer's chain of file-system calls",
    targets: ["latency-1000-block-p50", "latency-1000-block-p99", "latency-5000-block-p50", "latency-5000-block-p99"],
    profiles: [],
    text: `
\`bird_aggr.cfg\` renders in well under a millisecond; the anatomy table shows the rest: "put → daemon" (about the etcd put's own round
trip, i.e. etcd's WAL fsync on this machine's disk, before the event is even sent) and "write". \`writeFile\` (\`src/write/write-file.ts\`)
makes a chain of sequential thread-pool round trips for every install — \`lstat\` and \`readFile\` of the old file (\`inspect\`), \`readdir\`
of the directory for stale stage files (\`removeStaleStages\`, on every write), \`open\`, \`writeFile\`, \`stat\`, \`chmod\`, \`fsync\`,
\`close\` (\`fill\`), \`rename\`, and \`open\`/\`fsync\`/\`close\` of the directory (\`syncDirectory\`). The tail (p99) comes from the machine:
other processes share its two cores during the run (see the load average above), and the fsyncs wait on the disk.
Suggested fixes: run \`removeStaleStages\` once per destination per process (a crashed run's stage files cannot appear later); keep the
last written bytes and the file's \`ino\`/\`size\`/\`mtime\` per destination and compare in memory, re-reading only when the \`lstat\`
differs; skip the \`stat\` in \`fill\` when no owner is requested (the file was just created by this process). The etcd share is outside
perch (a faster etcd disk).
`,
  },
  {
    title: "Cold one-shot: start-up (module loading, a second etcd client stack, Handlebars compiling every template twice)",
    targets: ["oneshot-etcd-1000-wall", "oneshot-etcd-1000-rss", "oneshot-example-wall"],
    profiles: ["oneshot-etcd-1000", "oneshot-example"],
    text: `
The breakdown table shows that most of a one-shot's wall time passes before the listing starts, for the tiny example as for 1,000 nodes.
The profiles attribute it to:
- **Handlebars compiles every template twice.** \`compileTemplate\` (\`src/template/compile.ts\`) calls \`engine.precompile(ast, …)\` — full
  JavaScript code generation, with \`source-map\` \`SourceNode\`s — only to surface unknown-helper errors at load time, throws the result away,
  and returns \`engine.compile(ast, …)\`, which is lazy and runs the same code generation again inside the first \`render\` call (so in
  \`perch render\` it lands in the pass). Fix: build the template from the precompiled spec —
  \`engine.template(new Function(\\\`return \${spec}\\\`)())\` — so each template is compiled once; better still, cache the precompiled
  spec on disk keyed by a hash of the template source and the helper table, so a cold one-shot compiles nothing.
- **Modules a render never uses.** \`src/cli/main.ts\` imports \`./watch-command.js\` statically, pulling in the daemon, \`prom-client\` and
  the status server for \`perch render\` too: import it with \`await import()\` in the \`watch\` branch. \`src/write/run-command.ts\` imports
  \`execa\` at the top, and \`src/write/write-file.ts\` imports \`run-command.ts\`, so every process loads execa and its dependencies even when
  no command runs (the example has no \`check_cmd\` or \`reload_cmd\`): load it on the first \`runCommand\`, or use \`node:child_process\`
  \`spawn\` (\`detached: true\` and \`process.kill(-pid)\` give the process-group kill) directly.
- **The etcd client stack.** \`src/store/etcd-store.ts\` loads \`etcd3\`, which loads \`@grpc/grpc-js\` and \`protobufjs\` and builds etcd's
  protobuf types at import (\`@protobufjs/codegen\` in the profile) — already lazy (\`src/cli/open-store.ts\`), but paid by every etcd
  render, and it is what puts the etcd one-shot's peak RSS above the file store's. For the one-shot \`list\` (a paginated Range, no watch),
  etcd's JSON gateway (\`POST /v3/kv/range\` with base64 keys, over \`fetch\`) would avoid that stack entirely.
- Node's own start-up and the remaining imports (\`pino\`, \`handlebars\`, \`toml\`, perch's modules) are a floor that the 150 ms target for the
  example leaves little room above; the three items above are what is over it.
`,
  },
  {
    title: "Initial sync of 100,000 keys: the listing is 100 sequential pages that each cost etcd 3.4 more",
    targets: ["scale-sync"],
    profiles: ["scale-100k"],
    text: `
The profile is mostly idle: the daemon waits on etcd. \`EtcdStore.listAtOneRevision\` (\`src/store/etcd-store.ts\`) pages with
\`limit: pageSize\` and \`createEtcdStore\` defaults \`pageSize\` to 1,000, so 100,000 keys are 100 sequential Range requests. etcd 3.4's cost
per limited Range grows with the rest of the range it is given, not with the limit (timing the pages one by one, the first pages of the
listing cost several times the last ones), so the listing's total grows with the number of pages times the size of the range — far more
than one read of the data. The rest is
perch's own work on the listing: \`Mirror.replace\` builds a diff event per key against the empty mirror, then \`Mirror.apply\` and
\`KeyIndex.set\` insert every key.
Suggested fixes: size the pages by bytes rather than a fixed 1,000 keys — e.g. 10,000 keys, halving on \`RESOURCE_EXHAUSTED\` — keeping each
response under gRPC's default 4 MiB receive limit (or raise \`grpc.max_receive_message_length\` in \`Connection.open\`'s \`grpcOptions\`);
and in \`Mirror.replace\` (\`src/mirror/mirror.ts\`), when the mirror is empty, insert directly instead of building a diff.
`,
  },
];
