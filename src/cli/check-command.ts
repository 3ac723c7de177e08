/**
 * `perch check`: the keys each template reads on stdout; problems on stderr as `file:line:column: message`, the form
 * editors and CI annotations read; exit 2 on any, as `perch render` exits on a conf.d or template error. Warnings
 * (deprecated names) go to stderr as `file:line:column: warning: message` and do not change the exit status.
 */
import { relative } from "node:path";
import { runCheck, type CheckReport } from "../check/check.js";
import { formatLocated, type PerchError } from "../errors.js";
import type { Config } from "./settings.js";
import { EXIT } from "./exit.js";

export async function checkCommand(config: Config, nodeName: string): Promise<number> {
  const report = await runCheck({ confdir: config.confdir, nodeName, globalPrefix: config.prefix[0], only: config.only });
  process.stdout.write(formatCheckReport(report));
  if (config.calicoV3) process.stdout.write(formatCalicoSources((await import("../calico-v3/sources.js")).describeSources(nodeName)));
  const show = (p: PerchError, label = "") => process.stderr.write(`${formatLocated(`${label}${p.message}`, { ...p.context, file: p.context.file && shortPath(p.context.file) })}\n`);
  for (const w of report.warnings) show(w, "warning: ");
  for (const p of report.problems) show(p);
  const count = report.problems.length;
  if (count === 0) return EXIT.ok;
  process.stderr.write(`perch check: ${count} problem${count === 1 ? "" : "s"}\n`);
  return EXIT.usage;
}

export function formatCheckReport(report: CheckReport): string {
  const out: string[] = [];
  for (const r of report.resources) {
    out.push(`${r.resource}: ${shortPath(r.file)} → ${shortPath(r.template)}`);
    out.push(`  prefix ${r.prefix || "(none)"}; keys ${r.keys.join(", ")}`);
    const width = Math.max(0, ...r.reads.map((read) => (read.key ?? COMPUTED).length));
    for (const read of r.reads) {
      const mark = read.outside ? "  OUTSIDE KEYS" : "";
      out.push(`  ${(read.key ?? COMPUTED).padEnd(width)}  ${read.helpers.join(" ")}${mark}`);
    }
    if (r.reads.length === 0) out.push("  (reads no keys)");
    out.push("");
  }
  const n = report.problems.length;
  const w = report.warnings.length;
  const warned = w === 0 ? "" : `, ${w} warning${w === 1 ? "" : "s"}`;
  out.push(`${report.resources.length} resource${report.resources.length === 1 ? "" : "s"} checked, ${n === 0 ? "no" : n} problem${n === 1 ? "" : "s"}${warned}`);
  return `${out.join("\n")}\n`;
}

const COMPUTED = "(computed key)";

/** `--calico-v3`: where the v1 view comes from. */
export function formatCalicoSources(sources: ReadonlyArray<{ source: string; reads: string; derives: string }>): string {
  const out = ["", "calico-v3: the keys above are derived from Calico v3.16's datastore, read from"];
  const width = Math.max(...sources.map((s) => s.source.length));
  for (const s of sources) out.push(`  ${s.source.padEnd(width)}  ${s.reads}`, `  ${"".padEnd(width)}    → ${s.derives}`);
  return `${out.join("\n")}\n`;
}

/** Relative to the working directory when inside it: shorter, and what an editor resolves. */
function shortPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith("..") || rel === "" ? file : rel;
}
