/**
 * Every helper call checked without rendering (compiling stops at the first unknown helper): names, argument
 * counts, blocks, named arguments, partials, deprecated names (warnings). A helper call is what Handlebars takes
 * for one with `knownHelpersOnly`.
 */
import { parsePrintfFormat } from "../template/helpers/printf.js";
import { helperTable, isHelper, unknownHelperMessage } from "../template/compile.js";
import { argumentCountMessage, type Arity } from "../template/helper-spec.js";
import { deprecatedFormatterNames } from "../template/helpers/formatters.js";
import { inlinePartials } from "./partial-calls.js";

export interface UsageProblem {
  message: string;
  line: number;
  column: number;
  /** A deprecated name is a warning; `arity` marks an argument count finding. */
  kind?: "warning" | "arity";
}

/** Handlebars' built-ins (and perch's `let`) that only make sense with a block. */
const BLOCK_BUILTINS: Readonly<Record<string, Arity>> = { if: [1, 1], unless: [1, 1], each: [1, 1], with: [1, 1], let: [0, Infinity] };
const INLINE_BUILTINS: Readonly<Record<string, Arity>> = { lookup: [2, 2], log: [1, Infinity] };

type Call = hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression;

export function helperUsageProblems(ast: hbs.AST.Program): UsageProblem[] {
  const problems: UsageProblem[] = [];
  const partials = inlinePartials(ast);
  const at = (node: hbs.AST.Node, message: string, kind?: UsageProblem["kind"]) =>
    problems.push({ message, line: node.loc.start.line, column: node.loc.start.column + 1, ...(kind === undefined ? {} : { kind }) });
  const scopes: string[][] = [];

  const program = (p: hbs.AST.Program | undefined): void => {
    if (p === undefined) return;
    scopes.push(p.blockParams ?? []);
    for (const node of p.body) statement(node);
    scopes.pop();
  };
  const expressions = (node: { params: hbs.AST.Expression[]; hash?: hbs.AST.Hash }): void => {
    for (const e of node.params) expression(e);
    for (const pair of node.hash?.pairs ?? []) expression(pair.value);
  };
  const expression = (e: hbs.AST.Expression): void => {
    if (e.type !== "SubExpression") return;
    call(e as hbs.AST.SubExpression);
    expressions(e as hbs.AST.SubExpression);
  };
  const statement = (node: hbs.AST.Node): void => {
    switch (node.type) {
      case "MustacheStatement":
      case "BlockStatement":
        call(node as Call);
        expressions(node as Call);
        program((node as hbs.AST.BlockStatement).program);
        program((node as hbs.AST.BlockStatement).inverse);
        return;
      case "DecoratorBlock":
        program((node as hbs.AST.BlockStatement).program);
        return;
      case "PartialStatement":
      case "PartialBlockStatement": {
        const p = node as hbs.AST.PartialStatement | hbs.AST.PartialBlockStatement;
        const name = partialName(p.name);
        if (node.type === "PartialStatement" && name !== undefined && !partials.has(name)) {
          at(node, `unknown partial ${name}: define it in this template with {{#*inline "${name}"}}…{{/inline}}`);
        }
        expressions(p);
        if (node.type === "PartialBlockStatement") program((p as hbs.AST.PartialBlockStatement).program);
        return;
      }
      default:
        return;
    }
  };
  const call = (node: Call): void => {
    const name = helperName(node, scopes);
    if (name === undefined) return;
    if (!isHelper(name)) return void at(node, unknownHelperMessage(name));
    const isBlock = node.type === "BlockStatement";
    const spec = helperTable[name];
    let arity: Arity | undefined = spec?.arity ?? INLINE_BUILTINS[name];
    if (name in BLOCK_BUILTINS) {
      if (!isBlock) return void at(node, `${name} is a block helper: write {{#${name} …}}…{{/${name}}}`);
      arity = BLOCK_BUILTINS[name];
    }
    if (spec !== undefined && isBlock) {
      return void at(node, `${name} is not a block helper (its value would be printed and the block ignored): write {{#if (${name} …)}}`);
    }
    if (spec !== undefined && node.hash !== undefined) {
      at(node, `${name} takes no named arguments, got ${node.hash.pairs.map((p) => `${p.key}=`).join(" ")}`);
    }
    const count = node.params.length;
    const path = node.path as hbs.AST.PathExpression;
    // A bare {{@index}} reads the variable, even where a helper has its name (compile.ts readDataNotHelpers).
    if (path.data && count === 0 && node.hash === undefined) return;
    if (arity !== undefined && (count < arity[0] || count > arity[1])) {
      at(node, argumentCountMessage(name, arity, count, "check"), "arity");
    }
    if (name === "printf") printfFindings(node, (message) => at(node, message));
    const current = deprecatedFormatterNames[name];
    // Without arguments `{{cidr}}` meant a field (the argument count finding says so), not the formatter.
    if (current !== undefined && count > 0) at(node, `${name} is deprecated (it goes in the next release): write ${current}`, "warning");
  };

  program(ast);
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** A literal printf format is checked now, not at the first render: its verbs and flags, and its argument count. */
function printfFindings(node: Call, report: (message: string) => void): void {
  const [format, ...values] = node.params;
  if (format?.type !== "StringLiteral") return;
  const parsed = parsePrintfFormat((format as hbs.AST.StringLiteral).value);
  if (!parsed.ok) return report(parsed.error.message);
  const uses = parsed.format.directives.length;
  if (uses !== values.length) report(`printf: the format uses ${uses} argument${uses === 1 ? "" : "s"}, got ${values.length}`);
}

/**
 * As Handlebars decides with `knownHelpersOnly`: a subexpression, or a call with arguments, always calls its
 * path's first part; a bare simple name calls only a known helper; a block param never does.
 */
function helperName(node: Call, scopes: readonly string[][]): string | undefined {
  if (node.path.type !== "PathExpression") return undefined;
  const path = node.path as hbs.AST.PathExpression;
  const head = path.parts[0];
  const simple = path.parts.length === 1 && path.depth === 0 && !/^\.|this\b/.test(path.original);
  if (simple && scopes.some((params) => params.includes(head as string))) return undefined;
  const explicit = node.type === "SubExpression" || node.params.length > 0 || node.hash !== undefined;
  if (explicit) return head;
  return simple && isHelper(head as string) ? head : undefined;
}

function partialName(name: hbs.AST.PathExpression | hbs.AST.SubExpression | hbs.AST.Expression): string | undefined {
  if (name.type === "PathExpression") return (name as hbs.AST.PathExpression).original;
  if (name.type === "StringLiteral") return (name as hbs.AST.StringLiteral).value;
  return undefined;
}
