// Summaries of V8 CPU profiles (`node --cpu-prof`): where the samples' time went, by package or
// source file and by function (self time), so BENCHMARKS.md can say where a missed target's time
// goes without anyone opening the .cpuprofile by hand.
import { readFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { SourceMap } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { REPO } from "./perch.mjs";

const BUNDLE_DIR = path.join(REPO, "dist/bundle/");
const BUNDLE_URL = pathToFileURL(BUNDLE_DIR).href;
const bundleMaps = new Map();

/**
 * The shipped CLI is an esbuild bundle (scripts/bundle.mjs): its call frames name dist/bundle/perch.cjs. Map each back through the chunk's source map to the file it came from (src/…,
 * node_modules/…), so the views below still name perch's files and the packages.
 */
function unbundled(frame) {
  // The launcher runs perch.cjs as a vm.Script named by its path, not its URL.
  if (frame.url.startsWith(BUNDLE_DIR)) frame = { ...frame, url: pathToFileURL(frame.url).href };
  if (!frame.url.startsWith(BUNDLE_URL)) return frame;
  const file = fileURLToPath(frame.url);
  let map = bundleMaps.get(file);
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, "utf8")));
    } catch {
      map = null;
    }
    bundleMaps.set(file, map);
  }
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber);
  if (!entry?.originalSource) return frame;
  const url = pathToFileURL(path.resolve(path.dirname(file), entry.originalSource)).href;
  return { ...frame, url, lineNumber: entry.originalLine, columnNumber: entry.originalColumn };
}

/** Where a profile node's code lives, coarsely: a package, a perch source file, node internals. */
function place(url) {
  if (url === "") return "(no source URL: VM, native, generated code)";
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const parts = url.slice(nm + "/node_modules/".length).split("/");
    return parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith("node:")) {
    if (url.includes("/modules/")) return "node: module loading";
    return "node: internals";
  }
  const file = url.replace(/^file:\/\//, "");
  if (file.startsWith(REPO)) return path.relative(REPO, file).replace(/^dist\//, "dist/");
  return file;
}

/** Attribute a function (its call frame, unbundled) to a bucket for the "by activity" view. */
function activity({ url, functionName }) {
  if (functionName === "(garbage collector)") return "garbage collection";
  if (functionName === "(idle)") return "idle (waiting: I/O, child processes)";
  if (functionName === "(program)") return "VM (program)";
  if (url.startsWith("node:internal/modules") || functionName === "compileSourceTextModule" || functionName === "wrapSafe") return "module loading (resolve, read, compile)";
  // handlebars/lib/…: the bundle's source maps follow handlebars' own, past dist/cjs/.
  if (/\/handlebars\/(dist\/cjs|lib)\/handlebars\/compiler\//.test(url) || url.includes("/source-map/")) return "Handlebars template compilation";
  if (url.includes("/handlebars/")) return "Handlebars runtime";
  if (url.startsWith(BUNDLE_URL) || url.startsWith(BUNDLE_DIR)) return "bundle runtime (esbuild's CommonJS wrappers)";
  if (url.includes("/dist/template/") || url.includes(`${REPO}/src/template/`)) return "perch template helpers";
  if (url.includes("/dist/mirror/") || url.includes(`${REPO}/src/mirror/`)) return "perch mirror / key index";
  if (url.includes(`${REPO}/dist/`) || url.includes(`${REPO}/src/`)) return "perch, other modules (pass, writer, daemon, store)";
  if (url.includes("/etcd3/") || url.includes("/@grpc/") || url.includes("/protobufjs/")) return "etcd client (gRPC, protobuf)";
  if (url.includes("/pino")) return "logging (pino)";
  if (url.includes("/prom-client/")) return "metrics (prom-client)";
  if (url.includes("/execa/")) return "execa";
  if (url === "" && /^[a-zA-Z]+$/.test(functionName)) return `native: ${functionName}`;
  // Handlebars compiles templates with new Function: their code has no URL and no name.
  if (url === "" && functionName === "") return "compiled template code (no source URL)";
  if (url.startsWith("node:")) return "node internals (buffers, streams, fs, child processes)";
  return "other JavaScript";
}

/**
 * Summarize one .cpuprofile: total sampled ms, then the top places, activities and functions by
 * self time.
 */
export async function summarizeProfile(file, { top = 15 } = {}) {
  const profile = JSON.parse(await readFile(file, "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const places = new Map();
  const activities = new Map();
  const functions = new Map();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const frame = unbundled(byId.get(id).callFrame);
    totalUs += us;
    const where = place(frame.url);
    places.set(where, (places.get(where) ?? 0) + us);
    const what = activity(frame);
    activities.set(what, (activities.get(what) ?? 0) + us);
    const fn = `${frame.functionName || "(anonymous)"} — ${where}${frame.url ? `:${frame.lineNumber + 1}` : ""}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const rank = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, share: Math.round((us / totalUs) * 1000) / 10 }));
  return { file: path.relative(REPO, file), totalMs: Math.round(totalUs / 1000), activities: rank(activities), places: rank(places), functions: rank(functions) };
}

/** The single .cpuprofile node wrote into `dir` (the newest, if several). */
export async function profileIn(dir) {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile")).sort();
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  return path.join(dir, files.at(-1));
}
