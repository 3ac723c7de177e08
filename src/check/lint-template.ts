/**
 * One template's findings that need no keys: Go forms, helper calls, and paths that cannot resolve. Where a
 * Go form is the cause, it is reported alone: what else is wrong inside its tag follows from it.
 */
import { isHelper } from "../template/compile.js";
import { goIsmsInTemplate, type GoIsm } from "../template/go-isms.js";
import { helperUsageProblems } from "./helper-usage.js";
import { templatePathProblems } from "./template-paths.js";

export interface Finding {
  message: string;
  line: number;
  column: number;
}

export interface TemplateFindings {
  problems: Finding[];
  /** Deprecated names: reported, but they do not fail the check. */
  warnings: Finding[];
}

export function lintTemplate(ast: hbs.AST.Program, source: string): TemplateFindings {
  const goIsms = goIsmsInTemplate(ast, source, isHelper);
  const paths = templatePathProblems(ast);
  const usage = helperUsageProblems(ast);
  const shadowed = new Set(paths.filter((p) => p.shadows).map(position));
  const explained = (f: Finding) => goIsms.some((g) => inside(f, g));
  const problems = [
    ...goIsms,
    ...paths.filter((p) => !explained(p)),
    // `{{cidr}}` meant as a field: the path finding says how to read it, not how many arguments cidr takes.
    ...usage.filter((u) => u.kind !== "warning" && !explained(u) && !(u.kind === "arity" && shadowed.has(position(u)))),
  ];
  const warnings = usage.filter((u) => u.kind === "warning");
  return { problems: problems.map(finding).sort(byPosition), warnings: warnings.map(finding) };
}

function byPosition(a: Finding, b: Finding): number {
  return a.line - b.line || a.column - b.column;
}

function position(f: Finding): string {
  return `${f.line}:${f.column}`;
}

function inside(f: Finding, g: GoIsm): boolean {
  return f.line === g.tag.line && f.column >= g.tag.column && f.column < g.tag.endColumn;
}

function finding(f: Finding): Finding {
  return { message: f.message, line: f.line, column: f.column };
}
