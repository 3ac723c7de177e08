// Hand-written analysis of the targets that miss, shown in BENCHMARKS.md only while they miss.
// Text only — every figure in BENCHMARKS.md comes from a run, none from here. Each entry names
// the profiles (bench/results/profiles/<name>) whose summaries are printed under it.

export const FINDINGS = [
  {
    title: "Watch latency of an address change with the shipped set: bounded by etcd's put plus BIRD's own parse of the file",
    targets: ["latency-1000-ip-p50", "latency-1000-ip-p99", "latency-5000-ip-p50", "latency-5000-ip-p99"],
    profiles: ["latency-5000", "latency-1000"],
    text: `
The shipped \`bird.toml\` has Calico's \`check_cmd = "bird -p -c {{.src}}"\`, and perch (README.md, "Writing files") runs it on the staged
file before the rename: a file BIRD rejects is never installed. The last table of the watch-latency section measures that command on
its own, spawned by the bench on the installed \`bird.cfg\` — BIRD reading every peer, plus a shell and a process start — and the etcd
put's own round trip. Those two added up are already above the p50 targets (5 ms at 1,000 nodes, 15 ms at 5,000) before perch does
anything; perch's own \`check_cmd\` runs in a shell the daemon started while idle (\`src/command/spare-shell.ts\`), so it no
longer pays a fork of the daemon's process per check. No change to perch can meet these rows while the
check runs before the install; the "without check_cmd" rows, and the own-share rows, show perch's own part.

What perch does per change (\`src/template/memo.ts\`, \`src/write/write-file.ts\`, \`src/watch/coalescer.ts\`): the full mesh renders
incrementally — each outermost \`{{#each}}\` site keeps its iterations in a map keyed by the item itself (a host name from a cached
listing keeps its hash, so 5,000 lookups cost no string building), names from \`ls\`/\`lsdir\` are recorded for error messages by
listing, not one by one, and a loop over an unchanged listing reuses runs of 32 unchanged iterations whole; the writer compares
with the text it installed last while \`lstat\` shows the same file (no read of a file of up to a megabyte) and makes as few
thread-pool calls as it can before the rename; a zero \`--wait\` hands the change over with \`setImmediate\` (\`setTimeout(0)\` cost
every change 1 ms).
The tail (p99) is the shared machine: two cores for etcd, perch, BIRD's check and the bench, and one disk for etcd's fsyncs and
perch's. The table of each case's slowest changes (in the watch-latency section) says, change by change, which part was slow: the put
in etcd, the daemon's render, or its write — and, of the write, the stage file's fsync (\`perch_fsync_duration_seconds\` in the
daemon). The run's CPU steal row says how much of the machine the hypervisor gave to others meanwhile.
`,
  },
  {
    title: "Watch latency without check_cmd: etcd's commit and the file's fsync, rename and directory fsync on this disk",
    targets: ["latency-1000-ip-p50-nocheck", "latency-1000-ip-p99-nocheck", "latency-5000-ip-p50-nocheck", "latency-5000-ip-p99-nocheck"],
    profiles: [],
    text: `
By the anatomy table: "put → daemon" is mostly the etcd put itself (its round trip is in the last latency table: etcd's WAL fsync,
and waking an idle etcd: back-to-back puts to the same etcd are several times faster than puts spaced like the bench's); the
render is what the memo leaves: since f50701c a loop over the same listing reuses unchanged runs of 32 iterations as one flat
string and re-renders the changed iteration's run (render loop: 0.29–0.32 → 0.22–0.26 ms at 1,000 nodes, 1.1 → 0.51 ms at 5,000). Turning that string into bytes used to
walk every small piece of every reused iteration again, since V8 keeps a concatenation as a tree of its pieces; the memo now flattens
an iteration once, when it stores it (568d4fc): \`Buffer.from\` of a 1,000-node \`bird.cfg\` in the daemon went from 1.27–1.45 ms to
0.31–0.37 ms (medians of three alternating runs of 80 changes each), and from 4.35 to 1.89 ms at 5,000 nodes in a render loop
(\`bird.cfg\` and \`bird6.cfg\` both gain; only \`bird.cfg\`'s share is on the latency path). The write stages the whole full-mesh
file, fsyncs it, renames it over the old one and fsyncs the directory. The machine's root filesystem
is ext4 mounted with \`discard\`, and each install frees the old file's blocks; the file is visible after the rename, the directory
fsync follows. Each libuv file-system call is a thread-pool round trip (0.025–0.05 ms warm, 0.12–0.35 ms on the first call after
the CPU went idle, as it is between the bench's changes), so the writer now makes fewer of them before the rename (7305731): the
destination's \`lstat\` starts before the render and completes while it runs (an \`lstat\` took ~0.35 ms on the latency path); a daemon compares the rendered text with the text it
installed last (no encoding first) and encodes it while the thread pool creates the stage file; the stage file is created with the
wanted permission bits and its owner and mode are read beside the write, so \`chmod\` runs only when they differ; without
\`check_cmd\` the descriptor closes beside the rename. Per-call marks in the daemon (1,000 nodes, medians of 150–200 address changes,
from the watch frame's arrival): the rename completed at 3.13 ms before, 2.76 ms after — what is left is the render, the stage
file's creation, write and fsync, and the rename. The stage file's name takes its random part once per process (\`randomBytes\`
per name cost 0.07 ms on the latency path after the daemon sat idle). In watch mode a pass writes one file at a time, each as soon
as it is rendered: writing the unchecked ones concurrently there made every render run before the first file's write could go on.
The daemon's log is asynchronous since 39f92c6: at debug level (the bench's) two
log lines, each a \`write(2)\` to a pipe, came before the rename. Since the eighth session the quick calls (create, write into the
page cache, \`fstat\`, \`chmod\`, close, rename, and the open and close around the directory's fsync) are made on the daemon's own
thread and only the fsyncs go to the thread pool (\`src/write/fsync.ts\`): a whole write of the 1,000-node \`bird.cfg\`, with
its rename and the directory's fsync, took 2.57 → 2.15 ms with 20 ms between writes and 3.09 → 2.58 ms with 200 ms (medians of 300
and 60 writes per build, the two builds' writers alternating in one process). The cost: a filesystem that stops answering holds
the daemon's thread, and its \`/healthz\`, until it answers. The bench times a change at the inotify event of the rename rather than at its own read of the
file (~0.5 ms at 1,000 nodes: the second latency table has both).
`,
  },
  {
    title: "perch's own share with the shipped set: the render, the staging, handing the check over, and the machine's other work",
    targets: [1000, 5000].flatMap((n) => ["ip", "block"].flatMap((k) => [`own-share-${n}-${k}-p50`, `own-share-${n}-${k}-p99`])),
    profiles: ["latency-5000", "latency-1000"],
    text: `
What is left of a change between the daemon's receipt and the rename (the anatomy table's render and write, less its check
column): the render of \`bird.cfg\` and of its group's two includes (\`withGroupMates\`: a group is staged whole); comparing the
new text with the one installed last and encoding it; the group's stage directory,
the staged files and their fsync's start; handing the command to the spare shell; the shell's exit and the end of its output;
the rename. Done for these rows: the check no longer forks the daemon (a spare shell, forked after the pass); the group's
destination directory is made once per process and the destination's \`lstat\` is made on the daemon's thread, so nothing
between the render and the staging waits for the event loop; the rename keeps a descriptor on the replaced file, so freeing its
blocks (a discard on this machine's ext4) happens at that descriptor's close on the thread pool, after the new file is in place.
The render comes to the writer in parts (\`src/render/rendered-text.ts\`, \`src/template/loop-marks.ts\`): the text around the
top-level loops, and each loop's pieces as the memo keeps them (runs under blocks), the same ones as last time where the change
did not reach; the writer takes the same piece at the same place as equal without reading it, opens the others, and writes the
stage file run by run (a first version handed over a list of every run's text, O(N/32) a render: the generic render at 100,000
keys went 0.3 → 0.7 ms in the full run on 0b2461f; handing over the tree brought it back, 0.21 → 0.10 ms in-process). Before, comparing the new text
with the text installed last and encoding it made V8 flatten the memo's rope into a fresh copy (a megabyte at 5,000 nodes, for
\`bird.cfg\` and again for \`bird6.cfg\`, whose text had not changed); now unchanged pieces compare by identity and are encoded one
by one into the reused buffer. A scratch measurement of 156 runs of 8.4 KB, one changed: 0.97 ms (p90 1.83) for flattening,
comparing and encoding the rope against 0.09 ms (p90 0.14) for the pieces. In the latency suite, alternating the two builds (400
changes a case): perch's own share at 5,000 nodes, address change p50 2.97 → 1.77 / 1.72 ms, new block p50 2.39 → 0.81 / 1.20 ms.
The floor subtracted, \`bird -p\` alone, is spawned by the bench from its Node process and so holds the bench's own process
start, which the daemon's spare shell does not pay: the means table has that start (\`/bin/sh -c true\`) beside it.
The tail: each change's slowest part is in the slowest-changes table — \`check\` (BIRD's parse, on a core shared with etcd and
the bench), the stage fsync (the disk, shared with etcd's WAL), or the put itself; a young-generation collection lands in about
every other address change at 1,000 nodes (the daemon keeps its young generation at V8's initial size for its footprint,
\`src/cli/watch-command.ts\`), a fraction of a millisecond at the median.
`,
  },
  {
    title: "Watch latency of a new block: etcd's put, a full render of bird_aggr.cfg, and the atomic write",
    targets: ["latency-1000-block-p50", "latency-1000-block-p99", "latency-5000-block-p50", "latency-5000-block-p99"],
    profiles: [],
    text: `
Since 3c50b72 (issue 19's check groups) \`bird_aggr.cfg\` is in \`bird.cfg\`'s check group (\`check_covers\` in the shipped
\`bird.toml\`): a new block is installed only after \`bird -p -c\` has accepted the whole new set — \`bird.cfg\` with its full mesh
and the new \`bird_aggr.cfg\`, staged together — so BIRD never loads an include it rejects. This row now pays BIRD's parse of the
full-mesh file, as the address-change rows always did (the last table of the watch-latency section measures that parse alone);
before, it installed \`bird_aggr.cfg\` unchecked. The memo cannot help here: a new block changes the listing \`bird_aggr.cfg\`
loops over, and it renders in full (small for a node's handful of blocks).
`,
  },
  {
    title: "Cold one-shot: Node's start-up, the listing, a cold render of two 1,000-peer files, and BIRD's checks",
    targets: ["oneshot-etcd-1000-wall", "oneshot-etcd-1000-rss", "oneshot-example-wall"],
    profiles: ["oneshot-etcd-1000", "oneshot-example"],
    text: `
What was done: the shipped CLI is an esbuild bundle run by a small launcher (\`scripts/bundle.mjs\`, \`src/cli/launch.ts\`) that gives
V8 the code it compiled in an earlier run (Node 20 has no compile cache of its own), so a start skips parsing and compiling
perch and, lazily, every function the previous run called; Handlebars' runtime is loaded without its compiler, which only a
template missing from the on-disk compile cache needs (\`src/template/compile.ts\`, \`spec-cache.ts\`); \`diff\` is loaded only for
\`--diff\`; a one-shot lists etcd with the same gRPC calls as etcd3, made directly over \`node:http2\` with a hand-written codec for
the few messages (\`src/store/etcd/direct-list.ts\`, \`messages.ts\`), so \`etcd3\`, grpc-js and protobufjs are not loaded, and etcd
does not marshal 5,000 keys a page to JSON as it did for the gateway used before (140–220 ms → 40–60 ms for the 1,000-node listing);
execa (14–24 ms of a cold start) is imported while the listing waits on etcd; the helpers avoid per-call allocations (printf formats parsed once, no array
destructuring, string comparison without Buffers). The launcher is CommonJS (\`dist/bundle/package.json\`), so Node sets up no ES
module; the bundle has no comments or indentation (a third smaller, and pure ASCII, so V8 keeps its source as one-byte characters);
pino's transport, \`worker_threads\` and sonic-boom's \`assert\` are stubbed out of it (perch never uses a transport). The pass of a
one-shot (\`overlapRenders\`, \`src/sync/write-schedule.ts\`) writes the unchecked files side by side and renders the next file while BIRD
checks the previous one: the cold first check also waits on a major garbage collection and a fork, 15–40 ms, which the render of
\`bird6.cfg\` now fills. Measured with alternating runs of the two builds on this host (medians, spawn to exit): the example 123.8 → 112.7 ms over 30 runs
each, the 1,000-node one-shot 312.9 → 301.1 ms over 20 (commit b8c0a1b against these changes). The code cache holds the functions
of every kind of \`perch render\` it has met (store, \`--calico-v3\`, conf.d; \`src/cli/run-kind.ts\`, \`code-cache-file.ts\`): it was
written once, by a build's first run, so after the example's one-shots (which this bench runs first) or a \`perch --version\`,
every etcd one-shot compiled the listing, the check runner and the shipped templates' helpers anew; now the first run of a new
kind adds them (1,000 nodes, alternating, 30 rounds, a loaded host: median 318.9 → 299.7 ms). The listing's decode reads each
KeyValue in place (\`messages.ts\`: no position array or Buffer view per key, the key and value decoded straight from the message,
only a string holding U+FFFD checked byte by byte; a reader of closures over a local position, which V8's interpreter runs faster
than a class's methods): one cold decode of a 5,000-key page 22.1 → 13.5 ms, the 1,000-node one-shot's \`list\` 91.5 → 70.0 ms
(medians of 20 alternating rounds, load 4.4–5.5). \`perch watch\`'s V8 flags are set by the launcher before it compiles perch
(\`src/cli/v8-flags.ts\`), with a cache file of their own, so a daemon starts from a code cache as well (the example's daemon,
spawn to first pass, 172.4 → 161.2 ms, 16 alternating rounds).

What remains, by the breakdown table and the profiles:
- **Node's own start-up**, measured in the same run (\`node -e 0\`, without \`NODE_EXTRA_CA_CERTS\` like every target row: users don't
  set it; this workplace does, and the side rows that keep it show what Node's loading of that file adds to each start).
- **The render**, cold: every helper call of 2 × 1,000 peers runs in V8's interpreter and baseline compiler, through Handlebars'
  per-call helper wrapper; young-generation garbage collections are a fifth of it. Nothing is memoized in a one-shot, and the
  memo's bookkeeping is not paid either: no memo is made, and what remains of it is one check per program call in
  \`trackCallers\`' wrapper (\`tracked\`, ~1 % of a profile's samples; a build that renders without it when there is no memo,
  measured twice, moved neither render beyond noise — see the list below). Handlebars' own per-call runtime (\`prog\`, which wraps
  every block's program, and the helper wrapper that adds \`lookupProperty\` to each call's options) has more of the profile than
  perch's helper wrapper (\`wrapHelper\`, ~1–2 % of the samples in this round's profiles, 4–7 ms).
- **The mirror's ingest** of the 5,013 listed keys into five views (\`bird\` and \`bird6\` share one since this session: 22 → 14.5 ms
  cold, medians of 6 runs), and what is left of the listing's decode (~13 ms cold for the 5,000-key page).
- **\`check_cmd\`**: \`bird -p -c\` and \`bird6 -p -c\`, one after the other (a checked file may read what an earlier one installed),
  each behind a fork of the perch process; the second one after the render it overlapped.

Tried in earlier sessions: the listing's ten prefix ranges are now asked for side by side (f3b4e82; the nine small ones took ~14 ms one
after another, ~6 ms together, warm). Rendering \`bird6.cfg\` on a second thread (a worker started before the listing, given the
listing, rendering while the main thread rendered \`bird.cfg\`) made the one-shot slower, and was not kept: with both renders at once
each took about twice as long (main thread 62 → 102 ms, worker 45 → 89 ms; medians of 10 alternating runs with debug timestamps,
whole run 371 → 409 ms). Two CPU-bound processes side by side on this machine slow each other by 12–50 %: the two virtual cores
do not give two cores' worth of rendering. Removing Handlebars' per-call helper wrapper (which copies each call's options to add
\`lookupProperty\`) gained 3–6 % of a cold render in 20 alternating runs: not worth patching a dependency's internals.

Tried in the eighth session, none kept (scratch scripts, the 1,000-node one-shot against a bench-built etcd, each variant with its
own code-cache directory so a flag change could not reject another's cache; medians, spawn to exit or the render's own log
duration): V8 flags on the \`node\` command line — \`--always-sparkplug\`, \`--max-semi-space-size=32\`, \`--min-semi-space-size=16\`,
\`--no-lazy-feedback-allocation\`, \`--max-lazy\`, \`--initial-old-space-size=64\`, \`--single-threaded-gc\` — moved neither the wall
(398–446 ms for every variant, baseline included, over 10–20 alternating runs; the spread between rounds was larger than between
variants) nor the renders (\`bird.cfg\` 60–66 ms, \`bird6.cfg\` 50–62 ms, 12 runs each). A V8 code cache for the compiled templates
themselves (\`vm.Script\` cached data beside the spec cache): the first \`bird.cfg\` render 62.4 → 60.7 ms, medians of 12, inside the
noise. Sharing the constant \`loc\` and empty \`hash\` objects that Handlebars' generated code allocates on every helper call: no
difference in the cold or the warm render. A warm render of the 1,000-peer \`bird.cfg\` without the memo is 10–17 ms; the
cold one is 55–75 ms — the difference is V8 warming up (the interpreter, feedback, lazy compilation), which Node 20 offers no
way to carry from one process to the next beyond the bytecode the launcher already caches.

The host's speed moves these rows between full runs: the run on 84083fc read 103.3 ms for the example and 319.3 ms for 1,000
nodes with Node's own start at 34.7 ms; the run on 5c65c60 (whose only change on these paths is that the writer no longer encodes an installed file a
second time) read 74.2 and 257.7 ms with it
at 21.5 ms. Three full runs of the same one-shot code on one day (93c8465, 26b358b, bacc4b3, which changed only the bench's
watch suites) read 80.3, 81.5 and 108 ms for the example and 264.7, 282.7 and 373.2 ms for 1,000 nodes, with Node's own start at
23.4, 24.3 and 28.1 ms. Compare within one run, and against \`node -e 0\` in the same run. Measured apart on a quiet machine, alternating the
build of 7c48022 with 84083fc (2 × 20 runs, spawn to exit, no \`NODE_EXTRA_CA_CERTS\`): 79.2 / 78.0 ms against 78.5 / 79.6 ms, no
difference. Alternating more than four builds makes
each start compile afresh (the launcher keeps four code caches): ~110 ms for every build.

Tried for issue 21 (the targets now without \`NODE_EXTRA_CA_CERTS\`), not kept; alternating runs of scratch builds against a
bench-built etcd, each variant with its own cache directory, on a host other benches were loading (load 2–4.5, so the figures
are medians of 10–30 rounds and differences under ~15 ms are noise):
- **A V8 startup snapshot of the bundle** (\`node --snapshot-blob perch.blob --build-snapshot\`, the program's modules evaluated,
  \`main\` as the deserialized entry): run directly with \`--snapshot-blob\`, no launcher, the 1,000-node one-shot 286.8 ms against
  290.2 ms with the code-cached launcher (10 rounds), the example 88.5 against 82.0 ms (12 rounds). The snapshot carries the heap
  but not the compiled code of what runs after it, which the code cache does; and \`perch\` is started as \`node perch.js\`, so a
  snapshot needs a second process (another Node start, ~23 ms here) on top. A snapshot built with every function compiled eagerly
  (\`--no-lazy\` while loading): the example 99.7 against 106.5 ms median, 92.0 against 78.5 ms fastest — no better.
- **A code cache of the whole bundle, compiled eagerly at build time** (2.4 MB instead of ~0.6–0.9 MB): the example 85.8 ms against
  78.6 ms with the cache its own runs wrote (20 rounds); deserializing what a run never calls costs more than compiling what it does.
- **Capping V8's tiers for the one-shot's pass** (\`--max-opt=1\`, set after the listing): TurboFan's background compiles of the
  render helpers are ~100 ms of CPU in a 1,000-node one-shot. 1,000 nodes 480 → 385 ms (CPU 410 → 300 ms), but 5,000 nodes
  656 → 823 ms: the longer render needs the optimized code. Maglev instead (\`--maglev --max-opt=2\`) the same (378 and 908 ms), and
  delaying TurboFan (\`--ticks-before-optimization=12\`) the same trade (1,000 nodes 323 → 297 ms, 5,000 nodes 660 → 744 ms). A flag
  set at run time also changes V8's flag hash, which rejects the launcher's code cache written at exit and Node's own built-ins'
  code cache for every built-in loaded after it (the example +18–22 ms), and setting the flag back does not restore the hash.

Tried in issue 21's second round, not kept (builds from the same tree, alternating, each with its own cache directory seeded as the
bench seeds it; the host's load was 4–6 from other helpers' benches, so whole-run medians moved by ±30 ms between identical
builds and only each render's own logged duration is compared):
- **Rendering without \`trackCallers\`' wrapper when there is no memo** (a second template made from an unwrapped copy of the
  spec, chosen per render): \`bird.cfg\` 52.8 → 52.0 ms, \`bird6.cfg\` 47.6 → 48.0 ms, 24 rounds — nothing to keep.
- **A cheaper \`wrapHelper\`**: its upper bound first, a scratch build whose wrapper kept only what a call cannot do without (pop
  the options, call the helper: no arity check, no \`try\`, so not shippable): \`bird.cfg\` 92.7 → 95.8 ms, \`bird6.cfg\` 87.2 →
  86.7 ms over 40 rounds (81.4 → 78.3 and 74.5 → 65.8 over 24 in an earlier, shorter run). With no gain to take even at the upper
  bound, no cheaper wrapper with the same checks and messages was made.
`,
  },
  {
    title: "Burst reloads: each resource's own deadline, and passes that take longer than the quiet period",
    targets: ["burst-1000-reloads", "burst-5000-reloads", "burst-1000-final", "burst-5000-final"],
    profiles: [],
    text: `
The coalescer (\`src/watch/coalescer.ts\`) gives every dirty resource its own deadline: quiet for \`min\` (50 ms by default) or
\`max\` (500 ms) after its first change. A pass renders the resources due at that moment; changes that arrive while it runs wait
for the next one. The burst suite's passes list their durations: on a slow host the first two full-mesh passes take 100–200 ms, so
the burst's 800 ms hold three windows instead of two, and a resource whose first change came later (\`bird_aggr\` gets only the
new-block changes) falls due on its own, with the same reload command as \`bird\`. Rendering every pending resource in a pass that
reloads anyway would save that reload, at the cost of ignoring that resource's own quiet period; it was not done.
`,
  },
  {
    title: "--calico-v3 at 5,000 nodes: the derivation's share is small; the rest of the gap is in the write step",
    targets: ["calico-v3-latency-1000-p50", "calico-v3-latency-1000-p50-nocheck", "calico-v3-latency-5000-p50", "calico-v3-latency-5000-p50-nocheck", "calico-v3-sync-5000"],
    profiles: ["calico-v3-5000"],
    text: `
Deriving a Node put (\`CalicoDerivation.apply\`, \`src/calico-v3/derivation.ts\`) happens before the daemon logs the change, so it is
in the anatomy table's "put → daemon" column, which the v3 form exceeds the v1 form's by a few tenths of a millisecond; in-process,
one Node put into a 5,000-node derivation with the bench's three global peers costs about 0.04 ms (p50). It was 5 ms before 2d7922a:
every Node put recomputed the peerings, scanning every node twice per BGPPeer; now a put recomputes them only when a peering reads
what changed (labels, addresses, AS, cluster id), and finds nodes by address and selector in an index kept per Node.

What remains of the difference at 5,000 nodes is in the "write (+ check)" column, with the render equal: the same bytes written by
a process holding the derivation's state as well (the RSS rows: tens of MB more, a v3 view of 5,000 Nodes is about 12 MB of heap
in-process). With the shipped set that includes forking the larger process for \`check_cmd\` (\`ChildProcess.spawn\` in the profile
below); without it, the cause was not found.
`,
  },
  {
    title: "Footprint: Node's own share, the etcd client, and the memos",
    targets: ["footprint-1000-rss", "footprint-5000-rss", "footprint-5000-hwm", "footprint-100k-rss", "footprint-idle-cpu", "footprint-idle-wakeups"],
    profiles: [],
    text: `
What was done (issue 23; before/after figures in the commit messages): prom-client's event-loop delay histogram samples every
second instead of every 10 ms, which woke an idle daemon a hundred times a second (\`src/watch/metrics.ts\`); \`perch watch\` keeps
V8's young generation at its initial size (\`--semi-space-growth-factor=1\`): V8 doubled it during the initial listing up to
2 × 16 MB and kept it resident; the status server is imported only with \`--listen\`; each command's store stays lazy in the
bundle (the daemon never runs the one-shot listing's modules, a one-shot never loads etcd3). Then the daemon's garbage:
the first pass adds a few MB of live heap but commits several times that (the stage table's committed column), and a
plain collection frees the objects without giving their pages back. \`src/watch/idle-compaction.ts\` makes one full
collection once the daemon has been quiet for 1 s after a pass, and one between the initial listing and its pass, each with
\`--optimize-for-size\` set for that collection only, so V8 compacts and returns the emptied pages; V8's memory reducer,
which otherwise ran up to three collections seconds after activity (the idle CPU), is kept to one
(\`--memory-reducer-single-gc\`). The daemon's flags are set by the launcher before it compiles perch
(\`src/cli/v8-flags.ts\`), so a daemon starts from its own code cache.

Then perch's own data. The render memos held 16.3 MB at 5,000 nodes (a heap snapshot after the first
pass and 80 changes; bird + bird6): a \`Set\` per path read (30,013 of them, 6.3 MB, nearly all with one reader), a new
\`"<kind><path>"\` string per read, each iteration's text kept twice (by its entry and by its run) and a \`Position\` object per
entry. Now a path's single reader is kept as itself, reads are (kind, path) pairs that keep the caller's string, an entry keeps
offsets into its run's text, and its position is a few bits (\`src/template/memo-reads.ts\`, \`memo.ts\`): 6.8 MB at 5,000
nodes, 1.6 MB (from 3.5) at 1,000. The peak was set by a burst of changes, not by the listing: each change's render garbage is
promoted, and after a full collection V8 let the old generation grow by a factor it picks (up to 4×) before collecting again,
so RSS climbed ~2 MB a change (sampled every 25 ms at 5,000 nodes). \`perch watch\` now sets \`--heap-growing-percent=25\`:
in interleaved quick runs the 5,000-node VmHWM went from 125–129 to ~112 MB and the 100,000-key VmHWM from ~163 to ~127 MB,
with a change's pass unchanged within noise (\`test/integration/daemon-footprint.test.ts\` holds a burst's peak within 80 MB of
the RSS at rest over 50,000 keys; without the flag it rose by 166–173 MB). \`printf\` returns one flat string, not a tree of
cons strings that a memo would keep for the daemon's life. The writer's install cache kept each installed file twice, as
the text it compares the next render with and as its bytes, encoded a second time after every install; it now keeps the text alone
(\`FileContent\` in \`src/write/content.ts\`, \`src/write/installed.ts\`). At 5,000 nodes, three alternating quick runs each: steady RSS
104.8–105.8 → 99.6–100.4 MB, V8 external memory 6.8 → 4.7–4.9 MB, VmHWM 111.1–111.9 → 108.0–109.1 MB.

What remains, by the tables above:
- **The floor**: the footprint table's floor row is a Node process with etcd3 loaded, a client made and one watch open, nothing
  of perch's, measured in the same run; perch's share is the steady RSS minus it. The floor alone is above the 1,000-node
  target. A bare \`node\` is most of it (the binary's file-backed pages), the etcd client (etcd3, grpc-js, protobufjs parsing
  etcd's \`.proto\` files) the rest: measured at rest beside a process that opens one \`Watch\` stream over \`node:http2\` with
  nothing else loaded, 58–61 MB against 45–46 MB (two runs each, 13 s after start). The daemon could stream \`Watch\` over
  \`node:http2\` with the codec the one-shot listing uses (\`src/store/etcd/messages.ts\`) and drop etcd3, a dependency the
  project was given: a new watch client (reconnects, failover, auth and token renewal, compaction, progress, keepalive, the
  error explanations) and a decision outside this bench. Even then, Node and perch's modules come to ~58 MB before any data.
- **The burst's peak at 5,000 nodes**, now below the initial sync's: sampled every 20 ms, RSS rested at 95 MB after the first
  pass, climbed to 106 MB during the 20 changes and was back at 97 MB once the quiet-time collection had run. Each change made V8
  flatten the new \`bird.cfg\` and \`bird6.cfg\` for the comparison and the encoding (a sampling heap profile of the daemon over the
  burst put ~1 MB a change in the comparison and ~0.8 MB in the encoding), and the install cache kept the copy until the next
  change, so it was promoted. With the render as pieces (see the own-share section), \`--trace-gc-nvp\` over the same 20 changes:
  allocated 59 → 21 MB, promoted 23.9 → 1.8 MB, and the burst's sampled maximum 106 → 100–104.5 MB.
- **What sets VmHWM at 5,000 nodes now: a compaction's own moment.** Sampled every 3 ms over eight daemon starts (a scratch
  script, the footprint suite's series): RSS is 99–103 MB once the first pass is done and ~102 MB after the burst, and the maximum
  is one of the two quiet-time collections (\`src/watch/idle-compaction.ts\`): the one after the burst in five starts
  (e.g. 101.8 → 105.8 → 96.3 MB within 10 ms), the one a second after the first pass in three. A compacting collection copies the
  live objects off the pages it empties before it gives those pages back. Tried, no better (alternating starts, VmHWM): a plain full
  collection just before the compacting one, so that the copies could land in the space the first freed (103.9–105.7 against
  104.2–105.1 MB; the peak moved to the collection after the first pass); \`--no-parallel-compaction\` and \`--single-threaded-gc\`
  (104.4–108.5 MB); listing pages of 1,000 keys instead of 5,000 (102.1–103.9 against 104.0–104.7 MB, the listing 130 ms slower).
- **V8's committed pages after a burst**: the quiet-time collection frees the objects, but at 5,000 nodes it gave back little
  of the committed heap in one trace (RSS 120 → 118 MB); V8's memory reducer, ~8 s after a full collection, gave back ~12 MB
  more (\`Mark-Compact (reduce)\` in \`--trace-gc\`), and its compaction itself raised VmHWM by ~8 MB for that moment
  (evacuated objects are copied before their pages are freed). \`--gc-memory-reducer-start-delay-ms\` does not move the
  reducer in this V8, and \`--compact-on-every-full-gc\` raised the peak to 161 MB.
- **\`--optimize-for-size\` for the whole process** lowers the steady RSS further (a few MB at 1,000 nodes, more at 5,000)
  but makes every full render 15–20 % slower; docs/deploy.md offers it as a choice, it is not set.
- **Code**: bytecode and optimized code are a third of the heap snapshot. \`--no-opt\` and \`--lite-mode\` give back
  several MB but slow every render. \`--max-old-space-size\`, \`--v8-pool-size=1\`, \`--single-threaded-gc\`,
  \`--max-lazy\` and \`MALLOC_ARENA_MAX=2\` moved the steady RSS by less than the spread between runs of the same build.
- **Idle CPU and wakeups**: what is left in the idle window is the quiet-time collection and the reducer's single one;
  without activity the timers left are the event-loop histogram (once a second) and, only while they have work, the
  coalescer's wait, the retry of a failing resource, the periodic resync (\`--interval\`), the watch stream's set-up timeout
  and the dial timeout; the gRPC connection pings etcd every 30 s (\`grpc.keepalive_time_ms\`, so a half-open connection
  cannot stall the watch).
`,
  },
  {
    title: "100,000 keys: the listing's pages and the mirror",
    targets: ["scale-sync", "scale-rss"],
    profiles: ["scale-100k"],
    text: `
The listing (\`listAtOneRevision\`, \`src/store/etcd/paged-list.ts\`) reads pages of 5,000 keys at one revision. etcd 3.4's cost per
limited Range grows with the rest of the range, so fewer pages list faster; but larger pages raise the daemon's memory high-water mark (the
decoded responses), which V8 does not give back: pages of 10,000 keys listed faster and held the RSS above 200 MB. The mirror holds every key
once plus one prefix-relative copy per distinct view (resources that select the same keys under the same prefix, as
\`bird\` and \`bird6\` do, share one).
`,
  },
  {
    title: "Generic templates: perch's render is a fraction of a millisecond at every size; the tail is etcd and the disk, and the write grows with the file",
    targets: ["generic-10000-value-p50", "generic-10000-value-p99", "generic-10000-added-p50", "generic-10000-added-p99", "generic-render-growth"],
    profiles: [],
    text: `
Each change of the gets + json loop re-renders one iteration (\`src/template/memo.ts\`; the run's render column is the daemon's own
figure). A loop's last output is kept as a tree (\`src/template/memo-runs.ts\`): runs of up to 32 iterations, each one flat string,
under blocks of up to 16 runs or blocks whose text joins their children's as a rope. A patched \`gets\` answer, and a patched
\`ls\`/\`lsdir\` listing (\`src/mirror/listings.ts\`: a key that comes or goes puts at most one name in or out), records the one edit
that made it (\`src/mirror/list-edits.ts\`), so a change opens only the pieces on its path, found by arithmetic, and reuses every
other piece whole: pieces and iterations looked at per change are 43–52 at 1,000 keys, 60–62 at 10,000 and 75–77 at 100,000
(\`test/unit/memo-runs.test.ts\` asserts the bound), where runs of √N alone were 267, 534 and 1,349.

The tail at 10,000 keys, by the table of slowest changes: a slow change waited on the disk (the stage file's fsync, on the disk
etcd fsyncs to), on etcd (the daemon told late: etcd's commit and the watch event's delivery), on the bench (it noticed the rename
late: the bench shares the two cores), or, less often, on a render that a scavenge held up: the collections inside a change
(\`--trace-gc\` in the bench's daemons) are a millisecond or two at p99, but now and then a parallel scavenge waits 10–40 ms for
its helper threads to get a core (with \`--no-parallel-scavenge\` for the daemon, tried through the suite's \`nodeArgs\`, the
pauses' p99 per change halves, but put → file's p99 moves within the noise of the rest). The daemon's own pass around render and write is a millisecond. Perch's own share (put → file
minus the put's round trip) is printed beside each row: its p99 is mostly the stage fsync, which atomic installs keep.

Answers are patched in place (\`src/mirror/list-edits.ts\`). Before, a patched answer was a new array of N references per change: at
100,000 keys an 800 KB array in V8's large-object space, and most of a change's render there (a plain \`toSpliced\` of 100,000 pairs took
0.44 ms at the median, an in-place splice 0.02 ms). Each patch is now a new version of the same list and records one splice that covers
the patch's splices; a loop site keeps the version it went over and asks for the splice since, and the snapshot of a loop's surroundings
compared at each entry holds the version of every list around it (a \`#let\` value, a \`#with\` context, a block param, a parent
context), so the same list at a new version is a new value (\`test/unit/memo-shapes.test.ts\` has a shape for each; they fail without the
versions). In-process (mirror and memo, gets + json, median of 400 changes, builds alternating): 100,000 keys 0.59 → 0.10 ms for a value
change and 0.67 → 0.14 ms for an added key; 1,000 keys 0.06–0.08 ms either way. Before that, a chunked answer behind an Array-like Proxy
removed the copy (commit d85165a, reverted) at the cost of every read through the proxy (110–180 ns against ~4). What still grows with N
is the write: the file (1.4 MB at 100,000 keys for gets + json, several MB for ls + getv) is written and fsynced whole. Its
comparison and encoding go piece by piece (the own-share section): unchanged runs compare by identity and no flat copy of the
whole is made. A \`getvs\` loop that prints
\`@index\` renumbers every iteration after the place a changed value moves to (by design: each of them prints a new number).
`,
  },
];
