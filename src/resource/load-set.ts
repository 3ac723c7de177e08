/**
 * Load a confdir: every conf.d/*.toml resource, its keys resolved and its template compiled. Problems are
 * collected, not thrown one by one, so `perch check` and a refused SIGHUP reload report every one at once.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { PerchError, PerchErrors } from "../errors.js";
import type { KeySelection } from "../mirror/mirror.js";
import { compileTemplate, type CompiledTemplate } from "../template/compile.js";
import { checkGroupProblems, checkGroups, linkGroupMates, onlyWithGroups, type CheckGroup } from "./check-groups.js";
import { substituteNodeName } from "./node-name.js";
import { parseResource, type ResourceDefinition } from "./parse-resource.js";
import { destinationFile } from "./same-file.js";

export interface LoadOptions {
  confdir: string;
  nodeName: string;
  /** The global --prefix, prepended to every resource's prefix. */
  globalPrefix?: string;
  /** --root: every dest is placed under this directory. */
  root?: string;
  /** --only: resource names (conf.d base names) to keep. */
  only?: readonly string[];
}

export interface LoadedResource extends ResourceDefinition {
  /** Under --root when given. */
  dest: string;
  /** The template's path on disk. */
  srcPath: string;
  /** Full store paths this resource reads. */
  paths: string[];
  selection: KeySelection;
  template: CompiledTemplate;
  /** The check group (check_covers) this resource belongs to, if any. */
  checkGroup?: CheckGroup;
  /** The other loaded resources of its check group: a pass over it writes them as one set. */
  groupMates?: LoadedResource[];
}

export async function loadResourceSet(opts: LoadOptions): Promise<LoadedResource[]> {
  const { resources, problems } = await tryLoadResourceSet(opts);
  if (problems.length > 0) throw new PerchErrors(problems);
  return resources;
}

/** What loading found, problems included, for a caller that reports them with its own (`perch check`). */
export interface LoadAttempt {
  /** Complete only when there are no problems. */
  resources: LoadedResource[];
  /** Every conf.d file that parsed, in name order, that --only keeps: also those whose template failed. */
  definitions: ResourceDefinition[];
  problems: PerchError[];
}

export async function tryLoadResourceSet(opts: LoadOptions): Promise<LoadAttempt> {
  const confd = path.join(opts.confdir, "conf.d");
  const errors: PerchError[] = [];
  const failed = (problem: PerchError): LoadAttempt => ({ resources: [], definitions: [], problems: [problem] });
  let names: string[];
  try {
    names = (await readdir(confd)).filter((f) => f.endsWith(".toml")).sort();
  } catch (err) {
    return failed(new PerchError(`cannot read the resource directory: ${(err as Error).message}`, { file: confd }));
  }
  if (names.length === 0) return failed(new PerchError("no resources: the directory has no *.toml files", { file: confd }));

  // Read concurrently (each read is several thread-pool round trips), parse in name order.
  const texts = await Promise.all(names.map((fileName) => readFile(path.join(confd, fileName), "utf8")));
  const definitions: ResourceDefinition[] = [];
  names.forEach((fileName, i) => {
    const parsed = parseResource(path.join(confd, fileName), fileName.slice(0, -".toml".length), texts[i] as string);
    errors.push(...parsed.errors);
    if (parsed.resource) definitions.push(parsed.resource);
  });
  checkOnly(opts.only, names, confd, errors);
  // Check groups (check-groups.ts): --only keeps a group whole.
  errors.push(...checkGroupProblems(definitions));
  opts = { ...opts, only: onlyWithGroups(opts.only, definitions) };
  const groups = checkGroups(definitions);

  // Templates are read concurrently too (a rejection is handled where it is awaited), compiled in order.
  const sources = new Map<string, Promise<string>>();
  for (const def of definitions) {
    const srcPath = templatePath(opts.confdir, def);
    if (sources.has(srcPath)) continue;
    const read = readFile(srcPath, "utf8");
    read.catch(() => undefined);
    sources.set(srcPath, read);
  }
  const templates = new Map<string, CompiledTemplate | null>();
  const loaded: LoadedResource[] = [];
  const byDest = new Map<string, ResourceDefinition>();
  const files = await Promise.all(definitions.map((def) => destinationFile(opts.root ? path.join(opts.root, def.dest) : def.dest)));
  for (const [i, def] of definitions.entries()) {
    const file = files[i] as string;
    const other = byDest.get(file);
    if (other) {
      errors.push(new PerchError(sameFile(def, other, file), { file: def.file, line: def.lines.dest, resource: def.name }));
      continue;
    }
    byDest.set(file, def);
    if (!selected(opts.only, def)) continue;
    const srcPath = templatePath(opts.confdir, def);
    const template = await loadTemplate(def, srcPath, sources.get(srcPath) as Promise<string>, templates, errors);
    if (template) loaded.push({ ...resolve(def, template, opts), ...(groups.has(def.name) && { checkGroup: groups.get(def.name) }) });
  }
  linkGroupMates(loaded);
  return { resources: loaded, definitions: definitions.filter((def) => selected(opts.only, def)), problems: errors };
}

/** Names both conf.d files; the other's spelling and the file both name when they are not what `def` wrote. */
function sameFile(def: ResourceDefinition, other: ResourceDefinition, file: string): string {
  const as = other.dest === def.dest ? "" : ` (as ${other.dest})`;
  const both = file === def.dest ? "" : `: both are ${file}`;
  return `dest ${def.dest} is also the dest of ${other.file}${as}${both}: two resources cannot write one file`;
}

function selected(only: readonly string[] | undefined, def: ResourceDefinition): boolean {
  return only === undefined || only.includes(def.name);
}

function checkOnly(only: readonly string[] | undefined, fileNames: string[], confd: string, errors: PerchError[]): void {
  for (const name of only ?? []) {
    if (!fileNames.includes(`${name}.toml`)) errors.push(new PerchError(`--only ${name}: no such resource (no ${name}.toml)`, { file: confd }));
  }
}

/** Where a resource's template is on disk. */
export function templatePath(confdir: string, def: ResourceDefinition): string {
  return path.resolve(confdir, "templates", def.src);
}

/** `read` is the template file's text, read ahead; each template is compiled once (`cache`). */
async function loadTemplate(
  def: ResourceDefinition,
  srcPath: string,
  read: Promise<string>,
  cache: Map<string, CompiledTemplate | null>,
  errors: PerchError[],
): Promise<CompiledTemplate | undefined> {
  if (cache.has(srcPath)) return cache.get(srcPath) ?? undefined;
  let compiled: CompiledTemplate | null = null;
  try {
    const source = await read;
    compiled = compileTemplate(def.src, srcPath, source);
  } catch (err) {
    if (err instanceof PerchError) errors.push(err.withContext({ file: srcPath, resource: def.name }));
    else {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === "ENOENT" ? `template ${def.src} does not exist (looked for ${srcPath})` : `cannot read template ${srcPath}: ${(err as Error).message}`;
      errors.push(new PerchError(why, { file: def.file, line: def.lines.src, resource: def.name }));
    }
  }
  cache.set(srcPath, compiled);
  return compiled ?? undefined;
}

function resolve(def: ResourceDefinition, template: CompiledTemplate, opts: LoadOptions): LoadedResource {
  const prefix = storePath(opts.globalPrefix ?? "", substituteNodeName(def.prefix, opts.nodeName));
  const paths = def.keys.map((k) => storePath(prefix, substituteNodeName(k, opts.nodeName)));
  const dest = opts.root ? path.join(opts.root, def.dest) : def.dest;
  return {
    ...def,
    dest,
    srcPath: template.file,
    prefix,
    paths,
    selection: { name: def.name, prefix, paths },
    template,
  };
}

/** Join store path parts the way confd does (path.Join): one `/` between, none trailing. "" stays "". */
export function storePath(...parts: string[]): string {
  const joined = parts.filter((p) => p !== "").join("/");
  if (joined === "") return "";
  const clean = path.posix.join("/", joined);
  return clean.length > 1 && clean.endsWith("/") ? clean.slice(0, -1) : clean;
}
