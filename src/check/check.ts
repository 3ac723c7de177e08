/**
 * `perch check`: load the confdir as a render would, then read each template's AST for what loading cannot see
 * (every unknown helper, argument counts, Go forms, paths that cannot resolve, reads outside the resource's `keys`).
 * Nothing stops at the first problem.
 */
import { readFile } from "node:fs/promises";
import Handlebars from "handlebars";
import { PerchError, type ErrorContext } from "../errors.js";
import { globToRegExp } from "../mirror/glob.js";
import { compareBytes } from "../mirror/key-index.js";
import { storePath, templatePath, tryLoadResourceSet } from "../resource/load-set.js";
import type { ResourceDefinition } from "../resource/parse-resource.js";
import { lintTemplate } from "./lint-template.js";
import { literalText, mayReadInside, resourcePattern, showPattern, type KeyPattern } from "./key-pattern.js";
import { templateReads, type KeyRead } from "./template-reads.js";

export interface CheckOptions {
  confdir: string;
  /** Only for loading as a render would; the key analysis keeps the node name symbolic. */
  nodeName: string;
  globalPrefix?: string;
  only?: readonly string[];
}

export interface KeyReadSummary {
  /** The key as the template sees it (relative to the prefix); undefined when it is computed. */
  key: string | undefined;
  helpers: string[];
  outside: boolean;
}

export interface ResourceKeys {
  resource: string;
  file: string;
  template: string;
  prefix: string;
  keys: string[];
  reads: KeyReadSummary[];
}

export interface CheckReport {
  resources: ResourceKeys[];
  problems: PerchError[];
  /** Deprecated helper names: shown, but they alone do not fail the check. */
  warnings: PerchError[];
}

export async function runCheck(opts: CheckOptions): Promise<CheckReport> {
  const loading = await tryLoadResourceSet({ confdir: opts.confdir, nodeName: opts.nodeName, globalPrefix: opts.globalPrefix, only: opts.only });
  const problems = [...loading.problems];
  const warnings: PerchError[] = [];
  const resources: ResourceKeys[] = [];
  const linted = new Set<string>();
  for (const def of loading.definitions) {
    const template = templatePath(opts.confdir, def);
    const parsed = await parseTemplate(template);
    // Unreadable or invalid: loading has reported it.
    if (parsed === undefined) continue;
    const where: ErrorContext = { file: template, template: def.src, resource: def.name };
    if (!linted.has(template)) {
      linted.add(template);
      const findings = lintTemplate(parsed.ast, parsed.source);
      for (const p of findings.problems) problems.push(new PerchError(p.message, { ...where, line: p.line, column: p.column }));
      for (const w of findings.warnings) warnings.push(new PerchError(w.message, { ...where, line: w.line, column: w.column }));
    }
    resources.push(resourceKeys(def, template, templateReads(parsed.ast), where, opts.globalPrefix ?? "", problems));
  }
  return { resources, problems: tidy(problems), warnings: tidy(warnings) };
}

async function parseTemplate(file: string): Promise<{ ast: hbs.AST.Program; source: string } | undefined> {
  try {
    const source = await readFile(file, "utf8");
    return { ast: Handlebars.parse(source), source };
  } catch {
    return undefined;
  }
}

function resourceKeys(def: ResourceDefinition, template: string, reads: KeyRead[], where: ErrorContext, globalPrefix: string, problems: PerchError[]): ResourceKeys {
  const keys = def.keys.map(resourcePattern);
  const summaries = new Map<string | undefined, KeyReadSummary>();
  for (const read of reads) {
    const key = read.pattern === undefined ? undefined : showPattern(read.pattern);
    const at = { ...where, line: read.line, column: read.column, key };
    const invalid = read.pattern === undefined ? undefined : invalidRead(read, read.pattern);
    const outside = read.pattern !== undefined && invalid === undefined && !mayReadInside(read.pattern, read.kind, keys);
    if (invalid !== undefined) problems.push(invalid.withContext(at));
    if (outside) problems.push(new PerchError(`${read.helper} reads ${key}, outside the keys of resource ${def.name} (${def.keys.join(", ")})`, at));
    const summary = summaries.get(key) ?? { key, helpers: [], outside: false };
    if (!summary.helpers.includes(read.helper)) summary.helpers.push(read.helper);
    summary.outside ||= outside;
    summaries.set(key, summary);
  }
  return {
    resource: def.name,
    file: def.file,
    template,
    prefix: storePath(globalPrefix, showPattern(resourcePattern(def.prefix))),
    keys: keys.map(showPattern),
    reads: [...summaries.values()].sort((a, b) => (a.key === undefined ? 1 : b.key === undefined ? -1 : compareBytes(a.key, b.key))),
  };
}

/** A key that can never match anything, whatever the store holds. */
function invalidRead(read: KeyRead, pattern: KeyPattern): PerchError | undefined {
  const text = literalText(pattern);
  if (read.kind === "glob" && text !== undefined) {
    try {
      globToRegExp(text);
    } catch (err) {
      return err as PerchError;
    }
  }
  const first = pattern[0];
  if (first !== undefined && "text" in first && !first.text.startsWith("/")) {
    return new PerchError(`${read.helper} ${JSON.stringify(showPattern(pattern))} never matches: the keys a template sees start with "/"`);
  }
  return undefined;
}

/**
 * Loading and the AST walk can find the same unknown helper: report it once. Problems are grouped
 * by file (in the order files first appear) and ordered by position within each.
 */
function tidy(problems: PerchError[]): PerchError[] {
  const seen = new Set<string>();
  const fileOrder = new Map<string | undefined, number>();
  const kept = problems.filter((p) => {
    const line = p.toString();
    if (seen.has(line)) return false;
    seen.add(line);
    if (!fileOrder.has(p.context.file)) fileOrder.set(p.context.file, fileOrder.size);
    return true;
  });
  const rank = (p: PerchError) => fileOrder.get(p.context.file) as number;
  return kept.sort((a, b) => rank(a) - rank(b) || (a.context.line ?? 0) - (b.context.line ?? 0) || (a.context.column ?? 0) - (b.context.column ?? 0));
}
