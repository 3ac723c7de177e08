/**
 * The keys a template reads, by a small abstract evaluation of its AST: literals, `getenv` symbols, `printf`/`concat`,
 * variables, block params and partial calls are followed; anything else makes the key "computed".
 */
import { ScopedWalk, type BindParams, type BlockCall } from "./scoped-walk.js";
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


export function templateReads(ast: hbs.AST.Program): KeyRead[] {
  const walker = new ReadWalker(ast);
  // Partials nobody calls are still read once, without variables, so their keys are listed.
  walker.walk(ast, EMPTY_SCOPE, EMPTY_SCOPE);
  return walker.reads;
}

class ReadWalker extends ScopedWalk<Value, Scope> {
  readonly reads: KeyRead[] = [];
  private readonly seen = new Set<string>();

  constructor(ast: hbs.AST.Program) {
    super(ast, UNKNOWN);
  }

  protected mustache(m: hbs.AST.MustacheStatement, scope: Scope): void {
    if (m.path.type === "PathExpression") this.call(m.path as hbs.AST.PathExpression, m.params, m.hash, m.loc, scope, false);
  }

  protected partialScope(args: Value[], hash: ReadonlyMap<string, Value>, scope: Scope): Scope {
    return { data: scope.data, params: new Map(), fields: new Map([...scope.fields, ...hash]), self: args[0] ?? scope.self };
  }

  protected enterBlock({ name, args, hash, node }: BlockCall<Value>, scope: Scope, bind: BindParams<Value, Scope>): Scope {
    this.record(name, args, node.loc);
    if (name === "let") return bind(args, { data: new Map([...scope.data, ...hash]) });
    if (name === "each") {
      const item: Value = args[0]?.kind === "names" ? { kind: "pattern", pattern: ANY } : UNKNOWN;
      return bind([item, UNKNOWN], { self: item });
    }
    if (name === "with") return bind(args, { self: args[0] ?? UNKNOWN });
    return bind([]);
  }

  /** A helper call, or (`{{name}}` without arguments, not a store helper) a plain lookup. */
  private call(path: hbs.AST.PathExpression, params: hbs.AST.Expression[], hash: hbs.AST.Hash | undefined, loc: hbs.AST.SourceLocation, scope: Scope, subexpression: boolean): Value {
    const args = params.map((e) => this.value(e, scope));
    for (const pair of hash?.pairs ?? []) this.value(pair.value, scope);
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

  protected value(node: hbs.AST.Expression, scope: Scope): Value {
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
