/**
 * Go-template forms in a Handlebars template (what a confd user writes first), named with the Handlebars form to
 * write. Used where a template fails to parse or compile and by `perch check`, so both say the same thing.
 */

export interface GoIsm {
  message: string;
  line: number;
  /** 1-based. */
  column: number;
  /** The `{{…}}` tag holding it (columns 1-based, end exclusive): what else is wrong inside follows from it. */
  tag: { line: number; column: number; endColumn: number };
}

interface Tag {
  text: string;
  line: number;
  column: number;
}

const SEE = "(see the table of Go forms in docs/templates.md)";

function hint(goForm: string, handlebarsForm: string): string {
  return `${goForm}: write ${handlebarsForm} ${SEE}`;
}

/** What to write for a Go keyword or marker that Handlebars took for an unknown helper. */
export function unknownHelperHint(name: string): string | undefined {
  if (name === "range") return hint("range is Go's loop", "{{#each …}}…{{/each}}");
  if (name === "define") return hint("define is Go's named template", '{{#*inline "name"}}…{{/inline}}');
  if (name === "template") return hint("template calls a Go named template", "{{> name}}");
  if (name === "end") return blockEnd(undefined);
  if (name.startsWith("-")) return trimMarkers();
  return undefined;
}

/** `{{end}}`, with the closing tag of the block it is in when that is known. */
function blockEnd(open: string | undefined): string {
  return hint("{{end}} is Go's block end", open === undefined ? "{{/if}}, {{/each}}, {{/with}} or {{/let}}, as the block opened" : `{{/${open}}}`);
}

function goBlock(name: string): string {
  return hint(`{{${name} …}} opens a Go block`, `{{#${name} …}}…{{/${name}}}`);
}

function trimMarkers(): string {
  return hint("{{- and -}} are Go's trim markers", "{{~ and ~}}");
}

/** Go's `.Field` (the current value's field) as Handlebars writes it: `this.Field`; `.` alone is `this`. */
function thisFields(text: string): string {
  return text.replace(/(^|[\s({~])\.(?=[A-Za-z_])/g, "$1this.").replace(/(^|[\s({~])\.(?=[\s)}~]|$)/g, "$1this");
}

function dotField(mustache: string): string {
  return hint("a leading dot is Go's field of the current value", thisFields(mustache));
}

/** `{{$x := v}}` → `{{#let x=(v)}}…{{@x}}…{{/let}}`. */
function assignment(name: string, value: string): string {
  const bound = /\s/.test(value.trim()) ? `(${value.trim()})` : value.trim();
  return hint(`$${name} := is a Go variable`, `{{#let ${name}=${bound}}}…{{@${name}}}…{{/let}}`);
}

function variable(name: string): string {
  if (name === "") return `$ is Go's root value: a perch template has none, its data is read with the store helpers (getv, gets, …) ${SEE}`;
  return hint(`$${name} is a Go variable`, `{{@${name}}} for one bound by {{#let ${name}=…}}, or {{${name}}} for a block param (as |${name}|)`);
}

/** `a b | f c | g` → `g (f c (a b))`: each stage takes the previous result as its last argument. */
function pipeline(stages: string[]): string {
  const call = stages.map((s) => s.trim()).reduce((acc, stage) => `${stage} ${/\s/.test(acc) ? `(${acc})` : acc}`);
  return hint("| is a Go pipeline", `{{${call}}}`);
}

function ifArgument(block: string, call: string): string {
  return hint(`{{#${block} ${call}}} passes a helper as an argument`, `{{#${block} (${call})}} (a call inside another takes parentheses)`);
}

/** The built-in blocks that take one value: Go's `{{if f x}}` passes a call there without parentheses. */
export const ONE_ARGUMENT_BLOCKS: ReadonlySet<string> = new Set(["if", "unless", "with", "each"]);

/** Offsets of each line's start, to cut a node's source text out by its location. */
function lineStarts(source: string): number[] {
  const starts = [0];
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function slice(source: string, starts: number[], loc: hbs.AST.SourceLocation): string {
  const from = (starts[loc.start.line - 1] ?? 0) + loc.start.column;
  const to = (starts[loc.end.line - 1] ?? 0) + loc.end.column;
  return source.slice(from, to);
}

/** Go's trim markers: `{{- ` and ` -}}`, with the white space Go requires (`{{-3}}` is a number). */
const GO_TRIM = /^\{\{-\s|\s-\}\}$/;

const STRING_LITERAL = /"(?:[^"\\]|\\.)*"|'[^']*'/g;

/** The first Go form inside one `{{…}}` tag's text, as a message; string literals are not looked into. */
function goFormInTag(tag: string): string | undefined {
  const inner = tag.replace(/^\{\{[~#/^>&]?/, "").replace(/~?\}\}$/, "");
  const code = inner.replace(STRING_LITERAL, (literal) => "_".repeat(literal.length));
  if (/^\{\{-?\s*\/\*/.test(tag)) return hint("{{/* … */}} is a Go comment", "{{!-- … --}}");
  if (/^-\s|\s-$/.test(code) || GO_TRIM.test(tag)) return trimMarkers();
  const keyword = /^\s*(range|define|template|end)\b/.exec(code)?.[1];
  if (keyword !== undefined && !tag.startsWith("{{#")) return unknownHelperHint(keyword);
  const block = /^\s*(if|with)\s/.exec(code)?.[1];
  if (block !== undefined && !/^\{\{[#^]/.test(tag)) return goBlock(block);
  const assign = /^\s*\$(\w*)\s*:?=/.exec(code);
  if (assign) return assignment(assign[1] as string, inner.slice(assign[0].length));
  const bars = [...code.replace(/\bas\s*\|[^|]*\|/g, (params) => " ".repeat(params.length)).matchAll(/\|/g)].map((m) => m.index);
  if (bars.length > 0) {
    const stages = [0, ...bars.map((i) => i + 1)].map((from, i) => inner.slice(from, bars[i] ?? inner.length));
    stages[0] = (stages[0] as string).replace(/^\s*(?:if|else if|with|range)\s+/, "");
    return pipeline(stages);
  }
  if (/(^|[\s(])\.[A-Za-z_]/.test(code)) return dotField(tag);
  const dollar = /(?:^|[\s(])\$(\w*)/.exec(code);
  if (dollar) return variable(dollar[1] as string);
  return undefined;
}

/**
 * A parse error's Go form: the first `{{…}}` tag on the error's line that holds one (a Go comment, `.Key`, `$x :=`,
 * a pipeline, trim markers). Undefined when the line holds none: the parser's own message stands.
 */
export function goIsmAtParseError(source: string, line: number): GoIsm | undefined {
  const text = source.split("\n")[line - 1];
  if (text === undefined) return undefined;
  for (const tag of text.matchAll(/\{\{.*?\}\}|\{\{.*$/g)) {
    const message = goFormInTag(tag[0]);
    const column = (tag.index ?? 0) + 1;
    if (message !== undefined) return { message, line, column, tag: { line, column, endColumn: column + tag[0].length } };
  }
  return undefined;
}

type Expression = hbs.AST.Expression;

/**
 * The Go forms that parse as Handlebars but can only be mistakes: `$x`, `{{base .Key}}` (read as the field
 * `base.Key`), `{{#if getv "/x"}}`, trim markers, and `{{end}}` where the context is the template's own (it has
 * no fields). In source order.
 */
export function goIsmsInTemplate(ast: hbs.AST.Program, source: string, isHelper: (name: string) => boolean): GoIsm[] {
  const found: GoIsm[] = [];
  const starts = lineStarts(source);
  const at = (loc: hbs.AST.SourceLocation, message: string, tag: Tag) => {
    const endColumn = tag.text.includes("\n") ? Infinity : tag.column + tag.text.length;
    found.push({ message, line: loc.start.line, column: loc.start.column + 1, tag: { line: tag.line, column: tag.column, endColumn } });
  };
  const text = (loc: hbs.AST.SourceLocation) => slice(source, starts, loc);
  const tagAt = (loc: hbs.AST.SourceLocation, tagText: string): Tag => ({ text: tagText, line: loc.start.line, column: loc.start.column + 1 });
  // A block's location spans its body: its opening tag ends at the first "}}" after its last argument.
  const openTag = (b: hbs.AST.BlockStatement): Tag => {
    const whole = text(b.loc);
    return tagAt(b.loc, whole.slice(0, whole.indexOf("}}") + 2));
  };

  const expression = (e: Expression, tag: Tag): void => {
    if (e.type === "SubExpression") return call(e as hbs.AST.SubExpression, tag);
    if (e.type !== "PathExpression") return;
    const path = e as hbs.AST.PathExpression;
    if (path.original === "-") return void at(path.loc, trimMarkers(), tag);
    if (path.original.startsWith("$")) return void at(path.loc, variable(path.original.slice(1).split(".")[0] as string), tag);
    // Handlebars skips white space between a name and a dot: `base .Key` reads the field `base.Key`. A
    // bracketed segment (`this.[a b]`) may hold any text.
    if (/\s\./.test(text(path.loc).replace(/\[[^\]]*\]/g, "[]"))) at(path.loc, dotField(tag.text), tag);
  };
  const call = (node: { path: Expression; params: Expression[]; hash?: hbs.AST.Hash }, tag: Tag): void => {
    expression(node.path, tag);
    for (const p of node.params) expression(p, tag);
    for (const pair of node.hash?.pairs ?? []) expression(pair.value, tag);
  };
  const program = (p: hbs.AST.Program | undefined, ownContext: boolean, open: string | undefined): void => {
    for (const node of p?.body ?? []) statement(node, ownContext, open);
  };
  const statement = (node: hbs.AST.Node, ownContext: boolean, open: string | undefined): void => {
    if (node.type === "MustacheStatement") {
      const m = node as hbs.AST.MustacheStatement;
      const tag = tagAt(m.loc, text(m.loc));
      const name = m.path.type === "PathExpression" ? (m.path as hbs.AST.PathExpression).original : undefined;
      if (GO_TRIM.test(tag.text) || name === "-") return void at(m.loc, trimMarkers(), tag);
      if (name === "if" || name === "with") return void at(m.loc, goBlock(name), tag);
      if (name === "end" && ownContext && m.params.length === 0) {
        return void at(m.loc, blockEnd(open), tag);
      }
      return call(m, tag);
    }
    if (node.type === "BlockStatement" || node.type === "DecoratorBlock") {
      const b = node as hbs.AST.BlockStatement;
      const name = b.path.original;
      const first = b.params[0];
      if (ONE_ARGUMENT_BLOCKS.has(name) && b.params.length > 1 && first?.type === "PathExpression" && isHelper((first as hbs.AST.PathExpression).original)) {
        at(b.loc, ifArgument(name, b.params.map((p) => text(p.loc)).join(" ")), openTag(b));
      } else call(b, openTag(b));
      // `with`, `each` and inline partials change the context; `if`, `unless` and `let` keep it.
      const keeps = node.type === "BlockStatement" && (name === "if" || name === "unless" || name === "let");
      program(b.program, ownContext && keeps, node.type === "BlockStatement" ? name : undefined);
      // `{{else}}` renders in the block's outer context.
      program(b.inverse, ownContext, node.type === "BlockStatement" ? name : undefined);
      return;
    }
    if (node.type === "PartialStatement" || node.type === "PartialBlockStatement") {
      const p = node as hbs.AST.PartialStatement;
      const tag = tagAt(p.loc, `${text(p.loc).split("}}")[0] as string}}}`);
      for (const e of p.params) expression(e, tag);
      for (const pair of p.hash?.pairs ?? []) expression(pair.value, tag);
      if (node.type === "PartialBlockStatement") program((node as hbs.AST.PartialBlockStatement).program, false, undefined);
    }
  };
  program(ast, true, undefined);
  return found.sort((a, b) => a.line - b.line || a.column - b.column);
}
