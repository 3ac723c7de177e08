// Bundle the compiled CLI (dist/cli/main.js, from `tsc -p tsconfig.build.json`) into
// dist/bundle/perch.js with esbuild: the shipped `perch`. Node then resolves and reads a few
// files at start-up instead of ~200 (perch's modules, handlebars, pino, toml, diff, execa …),
// which is most of a one-shot render's cold start. dist/ itself stays: the tests and the bench
// import its modules directly.
//
// Code splitting keeps the `await import()`s lazy: each command, execa, chokidar, pino-pretty
// and the etcd store land in their own chunks, loaded only when used.
import { build } from "esbuild";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";

const REPO = path.resolve(import.meta.dirname, "..");
// dist/bundle/perch.js sits at the same depth as dist/cli/main.js: main.ts reads
// `new URL("../../package.json", import.meta.url)` for --version.
const OUT_DIR = path.join(REPO, "dist/bundle");
const ENTRY = path.join(REPO, "dist/cli/main.js");

// Left as imports of node_modules, not bundled:
// - etcd3 reads ../proto/rpc.proto relative to its own file when it loads (and drags in gRPC
//   and protobufjs, which do the same kind of thing); it is only loaded by the etcd backend.
const EXTERNAL = ["etcd3"];

const result = await build({
  absWorkingDir: REPO,
  entryPoints: { perch: ENTRY },
  outdir: OUT_DIR,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: EXTERNAL,
  // handlebars, pino and toml are CommonJS: their `require()`s of node builtins need a real
  // `require` in an ES module.
  banner: { js: 'import { createRequire as __perchCreateRequire } from "node:module";\nconst require = __perchCreateRequire(import.meta.url);' },
  chunkNames: "chunks/[name]-[hash]",
  // External maps cost nothing at start-up: Node opens a .map only under --enable-source-maps.
  // esbuild chains tsc's maps, so `node --enable-source-maps` shows src/*.ts positions. No
  // sourcesContent: the maps stay small (the sources are in src/ and node_modules/).
  sourcemap: "linked",
  sourcesContent: false,
  legalComments: "none",
  logLevel: "warning",
  write: false,
});

// Tests and benches may be running dist/bundle/perch.js while this rebuilds it: write each file
// beside its place and rename it in, the entry last (so it never names a chunk not yet there),
// then remove what the previous build left and this one did not write (chunk names carry a hash;
// a recent .tmp is another build's, in flight).
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

const code = outputs.filter((o) => o.path.endsWith(".js"));
const bytes = code.reduce((n, o) => n + o.contents.byteLength, 0);
console.log(`bundle: ${path.relative(REPO, entry)} + ${code.length - 1} chunks, ${(bytes / 1024).toFixed(0)} KiB`);
