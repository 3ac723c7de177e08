// Bundle the compiled CLI (dist/, from `tsc -p tsconfig.build.json`) with esbuild into the shipped
// `perch`: Node then reads two files at start-up instead of ~200 (perch's modules, handlebars,
// pino, toml, diff, execa …), which was most of a one-shot render's cold start. dist/ itself
// stays: the tests and the bench import its modules directly.
//
// - dist/bundle/perch.cjs, the program (dist/cli/entry.js and everything it imports), one
//   CommonJS file: Node 20 can give V8 cached data to a vm.Script, not to an ES module. The
//   `await import()`s of commands, execa, chokidar and pino-pretty stay lazy (esbuild evaluates
//   each such module on its first import).
// - dist/bundle/perch.js, the launcher (dist/cli/launch.js): runs perch.cjs with the code cache.
import { build } from "esbuild";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { Buffer } from "node:buffer";
import path from "node:path";

const REPO = path.resolve(import.meta.dirname, "..");
// dist/bundle/ sits at the same depth as dist/cli/: version.ts reads
// `new URL("../../package.json", import.meta.url)` for --version.
const OUT_DIR = path.join(REPO, "dist/bundle");

// Left as imports of node_modules, not bundled:
// - etcd3 reads ../proto/rpc.proto relative to its own file when it loads (and drags in gRPC
//   and protobufjs, which do the same kind of thing); it is only loaded by the etcd backend.
// - cockatiel, etcd3's policy library, which the etcd backend also uses: the copy etcd3 loads,
//   not a second one in the bundle (33 KB more to load on every start).
const EXTERNAL = ["etcd3", "cockatiel"];

// Node built-ins that pino loads at start-up for features perch does not use, replaced in the
// bundle by what perch's use of them needs (measured with require() in a fresh node: assert ~4 ms,
// worker_threads ~2 ms, on every start):
// - pino's transports (pino/lib/transport.js: thread-stream, a worker thread): perch's logger
//   writes to a sonic-boom destination (src/log/logger.ts), never to a transport;
// - worker_threads in pino/lib/tools.js, read for `isMainThread`: perch never runs in a worker;
// - sonic-boom's `assert(typeof fd === "number", message)`: one check, same message and code.
const TRIMMED = {
  "pino-transport": `module.exports = function transport() { throw new Error("pino transports are not part of perch's bundle"); };`,
  "pino-worker-threads": "module.exports = { isMainThread: true };",
  "sonic-boom-assert": `module.exports = function assert(value, message) {
  if (value) return;
  const error = new Error(message);
  error.code = "ERR_ASSERTION";
  throw error;
};`,
};
const trimmedFor = (specifier, importer) => {
  if (/^\.\/(lib\/)?transport$/.test(specifier) && /[/\\]pino[/\\](lib[/\\]tools|pino)\.js$/.test(importer)) return "pino-transport";
  if (specifier === "worker_threads" && /[/\\]pino[/\\]lib[/\\]tools\.js$/.test(importer)) return "pino-worker-threads";
  if (specifier === "assert" && /[/\\]sonic-boom[/\\]index\.js$/.test(importer)) return "sonic-boom-assert";
  return undefined;
};
const trimStartup = {
  name: "perch-trim-startup",
  setup(build) {
    build.onResolve({ filter: /^(\.\/transport|\.\/lib\/transport|worker_threads|assert)$/ }, ({ path: specifier, importer }) => {
      const stub = trimmedFor(specifier, importer);
      return stub === undefined ? undefined : { path: stub, namespace: "perch-trimmed" };
    });
    build.onLoad({ filter: /.*/, namespace: "perch-trimmed" }, ({ path: stub }) => ({ contents: TRIMMED[stub], loader: "js" }));
  },
};

const common = {
  absWorkingDir: REPO,
  bundle: true,
  platform: "node",
  target: "node20",
  external: EXTERNAL,
  // External maps cost nothing at start-up: Node opens a .map only under --enable-source-maps.
  // esbuild chains tsc's maps, so `node --enable-source-maps` shows src/*.ts positions. No
  // sourcesContent: the maps stay small (the sources are in src/ and node_modules/).
  sourcemap: "linked",
  sourcesContent: false,
  legalComments: "none",
  // No comments and no indentation: a third smaller, and pure ASCII (a few comments had "—" and
  // "→", which made V8 hold the whole 1.4 MB source as a two-byte string). Names are kept, so a
  // stack trace stays readable; the map gives src/ positions.
  minifyWhitespace: true,
  logLevel: "warning",
  write: false,
};

const [program, launcher] = await Promise.all([
  build({
    ...common,
    entryPoints: [path.join(REPO, "dist/cli/entry.js")],
    outfile: path.join(OUT_DIR, "perch.cjs"),
    format: "cjs",
    plugins: [trimStartup],
    // A CommonJS file has no import.meta: its URL is the bundle's own (createRequire and the
    // package.json lookup resolve from dist/bundle/, as they did from dist/cli/).
    define: { "import.meta.url": "__perchModuleUrl" },
    banner: { js: 'var __perchModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  }),
  build({
    ...common,
    entryPoints: [path.join(REPO, "dist/cli/launch.js")],
    outfile: path.join(OUT_DIR, "perch.js"),
    // CommonJS as well (dist/bundle/package.json says so): Node starts a CommonJS main without
    // setting up its ES module loader, ~6 ms of every start on the bench machine.
    format: "cjs",
    define: { "import.meta.url": "__perchModuleUrl" },
    banner: { js: 'var __perchModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  }),
]);
const packageJson = {
  path: path.join(OUT_DIR, "package.json"),
  contents: Buffer.from(`${JSON.stringify({ type: "commonjs" })}\n`),
};
const result = { outputFiles: [...program.outputFiles, ...launcher.outputFiles, packageJson] };

// Tests and benches may be running dist/bundle/perch.js while this rebuilds it: write each file
// beside its place and rename it in, the launcher last (so it never runs a program not yet
// there), then remove what the previous build left and this one did not write (a recent .tmp is
// another build's, in flight).
const entry = path.join(OUT_DIR, "perch.js");
const outputs = [...result.outputFiles].sort((a, b) => Number(a.path === entry) - Number(b.path === entry));
for (const { path: file, contents } of outputs) {
  await mkdir(path.dirname(file), { recursive: true });
  const staged = `${file}.${process.pid}.tmp`;
  await writeFile(staged, contents, { mode: file === entry ? 0o755 : 0o644 });
  await rename(staged, file);
}
const written = new Set(outputs.map((o) => o.path));
for (const dirent of await readdir(OUT_DIR, { recursive: true, withFileTypes: true })) {
  const file = path.join(dirent.parentPath, dirent.name);
  if (!dirent.isFile() || written.has(file)) continue;
  if (file.endsWith(".tmp") && Date.now() - (await stat(file).catch(() => ({ mtimeMs: 0 }))).mtimeMs < 60_000) continue;
  await rm(file, { force: true });
}
// Directories an older layout used (chunks/), now empty.
for (const dirent of await readdir(OUT_DIR, { withFileTypes: true })) {
  const dir = path.join(OUT_DIR, dirent.name);
  if (dirent.isDirectory() && (await readdir(dir)).length === 0) await rm(dir, { recursive: true });
}

const size = (file) => outputs.find((o) => o.path === path.join(OUT_DIR, file)).contents.byteLength / 1024;
console.log(`bundle: dist/bundle/perch.js (launcher, ${size("perch.js").toFixed(0)} KiB) + perch.cjs (${size("perch.cjs").toFixed(0)} KiB)`);
