/**
 * The keys a template reads, by a small abstract evaluation of its AST: literals, `getenv` symbols, `printf`/`concat`,
 * variables, block params and partial calls are followed; anything else makes the key "computed".
 */
import { PartialCalls } from "./partial-calls.js";
import { ANY, joinPatterns, literalText, textPattern, type KeyPattern, type ReadKind } from "./key-pattern.js";

/** The store helpers and how each reads its key argument. */
export const STORE_READS: Readonly<Record<string, ReadKind>> = {
  getv: "key",
  get: "key",
  exists: "key",
  gets: "glob",
  getvs: "glob",
  ls: "tree",
  lsdir: "tree",
};

export interface KeyRead {
  helper: string;
  kind: ReadKind;
  /** Undefined when the key is computed from something a static look cannot follow. */
  pattern: KeyPattern | undefined;
  line: number;
  column: number;
}

type Value = { kind: "pattern"; pattern: KeyPattern } | { kind: "names" } | { kind: "unknown" };

const UNKNOWN: Value = { kind: "unknown" };

interface Scope {
  /** `{{#let name=…}}` variables, read as `@name` (they pass into partials, like Handlebars data). */
  data: ReadonlyMap<string, Value>;
  /** `as |x|` block params (they do not pass into partials). */
  params: ReadonlyMap<string, Value>;
  /** Context fields: a partial's hash arguments. */
  fields: ReadonlyMap<string, Value>;
  self: Value;
}

const EMPTY_SCOPE: Scope = { data: new Map(), params: new Map(), fields: new Map(), self: UNKNOWN };

type Node = hbs.AST.Node;

export function templateReads(ast: hbs.AST.Program): KeyRead[] {
  const walker = new ReadWalker(inlinePartials(ast));
  walker.program(ast, EMPTY_SCOPE);
  walker.uncalledPartials();
  return walker.reads;
}

/** `{{#*inline "name"}}` definitions anywhere in the template. */
export function inlinePartials(ast: hbs.AST.Program): Map<string, hbs.AST.Program> {
  const found = new Map<string, hbs.AST.Program>();
  const visit = (program: hbs.AST.Program | undefined): void => {
    for (const node of program?.body ?? []) {
      if (node.type === "DecoratorBlock" || node.type === "BlockStatement") {
        const block = node as hbs.AST.BlockStatement;
        const name = block.params[0];
        if (node.type === "DecoratorBlock" && block.path.original === "inline" && name?.type === "StringLiteral") {
          found.set((name as hbs.AST.StringLiteral).value, block.program);
        }
        visit(block.program);
        visit(block.inverse);
      } else if (node.type === "PartialBlockStatement") visit((node as hbs.AST.PartialBlockStatement).program);
    }
  };
  visit(ast);
  return found;
}

class ReadWalker {
  readonly reads: KeyRead[] = [];
  private readonly seen = new Set<string>();
  private readonly partials: PartialCalls<Scope>;

  constructor(partials: Map<string, hbs.AST.Program>) {
    this.partials = new PartialCalls(partials, (body, scope) => this.program(body, scope));
  }

  program(program: hbs.AST.Program | undefined, scope: Scope): void {
    for (const node of program?.body ?? []) this.statement(node, scope);
  }

  /** Partials nobody calls are still read once, without variables, so their keys are listed. */
  uncalledPartials(): void {
    this.partials.uncalled(EMPTY_SCOPE);
  }

  private statement(node: Node, scope: Scope): void {
    switch (node.type) {
      case "MustacheStatement": {
        const m = node as hbs.AST.MustacheStatement;
        if (m.path.type === "PathExpression") this.call(m.path as hbs.AST.PathExpression, m.params, m.hash, m.loc, scope, false);
        return;
      }
      case "BlockStatement":
        return this.block(node as hbs.AST.BlockStatement, scope);
      case "PartialStatement":
      case "PartialBlockStatement": {
        const p = node as hbs.AST.PartialStatement | hbs.AST.PartialBlockStatement;
        const args = p.params.map((e) => this.expression(e, scope));
        const fields = new Map(scope.fields);
        for (const pair of p.hash?.pairs ?? []) fields.set(pair.key, this.expression(pair.value, scope));
        const inner: Scope = { data: scope.data, params: new Map(), fields, self: args[0] ?? scope.self };
        if (p.name.type === "PathExpression") this.partials.call((p.name as hbs.AST.PathExpression).original, inner);
        if (node.type === "PartialBlockStatement") this.program((p as hbs.AST.PartialBlockStatement).program, scope);
        return;
      }
      default:
        // Content, comments, and inline partial definitions (walked from their calls).
        return;
    }
  }

  private block(node: hbs.AST.BlockStatement, scope: Scope): void {
    const name = node.path.original;
    const args = node.params.map((e) => this.expression(e, scope));
    const hash = new Map((node.hash?.pairs ?? []).map((pair) => [pair.key, this.expression(pair.value, scope)] as const));
    this.record(name, args, node.loc);
    const names = node.program?.blockParams ?? [];
    const bind = (values: Value[], extra: Partial<Scope> = {}): Scope => {
      const params = new Map(scope.params);
      names.forEach((param, i) => params.set(param, values[i] ?? UNKNOWN));
      return { ...scope, params, ...extra };
    };
    let inner: Scope;
    if (name === "let") inner = bind(args, { data: new Map([...scope.data, ...hash]) });
    else if (name === "each") {
      const item: Value = args[0]?.kind === "names" ? { kind: "pattern", pattern: ANY } : UNKNOWN;
      inner = bind([item, UNKNOWN], { self: item });
    } else if (name === "with") inner = bind(args, { self: args[0] ?? UNKNOWN });
    else inner = bind([]);
    this.program(node.program, inner);
    this.program(node.inverse, scope);
  }

  /** A helper call, or (`{{name}}` without arguments, not a store helper) a plain lookup. */
  private call(path: hbs.AST.PathExpression, params: hbs.AST.Expression[], hash: hbs.AST.Hash | undefined, loc: hbs.AST.SourceLocation, scope: Scope, subexpression: boolean): Value {
    const args = params.map((e) => this.expression(e, scope));
    for (const pair of hash?.pairs ?? []) this.expression(pair.value, scope);
    if (!subexpression && params.length === 0 && hash === undefined && !(path.original in STORE_READS)) return this.path(path, scope);
    return this.record(path.original, args, loc) ?? evaluate(path.original, args);
  }

  /** A store helper's read; returns what it yields when that matters (names to iterate). */
  private record(helper: string, args: Value[], loc: hbs.AST.SourceLocation): Value | undefined {
    const kind = STORE_READS[helper];
    if (kind === undefined) return undefined;
    // Without a key argument there is no read, only the arity finding.
    if (args.length === 0) return UNKNOWN;
    const arg = args[0];
    const pattern = arg?.kind === "pattern" ? arg.pattern : undefined;
    const line = loc.start.line;
    const column = loc.start.column + 1;
    const id = `${helper}\0${JSON.stringify(pattern)}\0${line}:${column}`;
    if (!this.seen.has(id)) {
      this.seen.add(id);
      this.reads.push({ helper, kind, pattern, line, column });
    }
    return helper === "ls" || helper === "lsdir" ? { kind: "names" } : UNKNOWN;
  }

  private expression(node: hbs.AST.Expression, scope: Scope): Value {
    switch (node.type) {
      case "StringLiteral":
        return { kind: "pattern", pattern: textPattern((node as hbs.AST.StringLiteral).value) };
      case "NumberLiteral":
        return { kind: "pattern", pattern: textPattern(String((node as hbs.AST.NumberLiteral).value)) };
      case "SubExpression": {
        const s = node as hbs.AST.SubExpression;
        return this.call(s.path, s.params, s.hash, s.loc, scope, true);
      }
      case "PathExpression":
        return this.path(node as hbs.AST.PathExpression, scope);
      default:
        return UNKNOWN;
    }
  }

  private path(path: hbs.AST.PathExpression, scope: Scope): Value {
    const [head, ...rest] = path.parts;
    if (path.depth > 0) return UNKNOWN;
    if (head === undefined) return scope.self;
    if (rest.length > 0) return UNKNOWN;
    if (path.data) return scope.data.get(head) ?? UNKNOWN;
    if (/^(?:this\b|\.)/.test(path.original)) return scope.fields.get(head) ?? UNKNOWN;
    return scope.params.get(head) ?? scope.fields.get(head) ?? UNKNOWN;
  }
}

/** The helpers that build keys, evaluated on patterns; every other helper's result is unknown. */
function evaluate(helper: string, args: Value[]): Value {
  const pattern = (v: Value | undefined): KeyPattern => (v?.kind === "pattern" ? v.pattern : ANY);
  if (helper === "getenv") {
    const name = args[0]?.kind === "pattern" ? literalText(args[0].pattern) : undefined;
    return name === undefined ? UNKNOWN : { kind: "pattern", pattern: [{ env: name }] };
  }
  if (helper === "concat") return { kind: "pattern", pattern: joinPatterns(...args.map(pattern)) };
  if (helper === "printf") {
    const format = args[0]?.kind === "pattern" ? literalText(args[0].pattern) : undefined;
    if (format === undefined) return UNKNOWN;
    let next = 1;
    const parts = format.split(/(%.)/s).map((piece): KeyPattern => {
      if (piece === "%%") return textPattern("%");
      if (!/^%.$/s.test(piece)) return textPattern(piece);
      const arg = args[next++];
      // %q and %x change the text; only %s, %d and %v print an argument as it is.
      return /^%[sdv]$/.test(piece) ? pattern(arg) : ANY;
    });
    return { kind: "pattern", pattern: joinPatterns(...parts) };
  }
  return UNKNOWN;
}
