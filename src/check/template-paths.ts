/**
 * Every name a template reads, resolved against the shapes the store helpers return (`gets` items are
 * `{key, value}`, `ls` names are strings, `json` is open), block params, `with`/`each` contexts and `@data`: a path
 * that cannot resolve renders as nothing, so it is reported with the names that would.
 */
import { ScopedWalk, type BindParams, type BlockCall } from "./scoped-walk.js";
import { helperNames, helperTable, isHelper, shadowedFieldMessage } from "../template/compile.js";
import { ONE_ARGUMENT_BLOCKS, unknownHelperHint } from "../template/go-isms.js";
import { closest, typoDistance } from "../util/closest.js";

export interface PathProblem {
  message: string;
  line: number;
  column: number;
  /** A bare `{{cidr}}` meant as a field: this message replaces the argument count finding at the same place. */
  shadows?: true;
}

/** What a value is known to be; `open` (JSON, anything unknown) has any field. */
type Shape =
  | { kind: "open" }
  | { kind: "scalar"; what: string }
  | { kind: "list"; what: string; item: Shape }
  | { kind: "record"; what: string; fields: ReadonlyMap<string, Shape> };

const OPEN: Shape = { kind: "open" };

function scalar(what: string): Shape {
  return { kind: "scalar", what };
}

function list(what: string, item: Shape): Shape {
  return { kind: "list", what, item };
}

/** A store key/value pair, with the `Key`/`Value` spelling confd templates use. */
function pair(what: string): Shape {
  const text = scalar("a string");
  return { kind: "record", what, fields: new Map(["key", "value", "Key", "Value"].map((f) => [f, text])) };
}

/** What the helpers whose result has a shape return; every other helper returns a scalar. */
const RESULTS: Readonly<Record<string, Shape>> = {
  get: pair("the result of get"),
  gets: list("the result of gets", pair("an item of gets")),
  getvs: list("the result of getvs", scalar("a value from getvs (a string)")),
  ls: list("the result of ls", scalar("a name from ls (a string)")),
  lsdir: list("the result of lsdir", scalar("a name from lsdir (a string)")),
  split: list("the result of split", scalar("a part from split (a string)")),
  json: OPEN,
  jsonArray: list("the result of jsonArray", OPEN),
  index: OPEN,
  and: OPEN,
  or: OPEN,
  default: OPEN,
  lookup: OPEN,
};

const ROOT: Shape = { kind: "record", what: "the template's context", fields: new Map() };

/** The loop's data variables, set inside `each` (`@root` is set everywhere). */
const LOOP_DATA = ["index", "key", "first", "last"] as const;

interface Scope {
  /** `this`, then each outer context (`../`). */
  contexts: readonly Shape[];
  params: ReadonlyMap<string, Shape>;
  data: ReadonlyMap<string, Shape>;
  /** An inline partial nobody calls: its context and variables are whatever a caller would pass. */
  unknownCaller: boolean;
  /** The block param that names `this`, for the `{{pool.cidr}}` hint. */
  selfName?: string;
}

const ROOT_SCOPE: Scope = { contexts: [ROOT], params: new Map(), data: new Map([["root", ROOT]]), unknownCaller: false };

export function templatePathProblems(ast: hbs.AST.Program): PathProblem[] {
  const walker = new PathWalker(ast);
  walker.walk(ast, ROOT_SCOPE, { contexts: [OPEN], params: new Map(), data: new Map(), unknownCaller: true });
  return walker.problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Handlebars takes `{{name}}` alone for a call when `name` is a helper and not a block param. */
function isBareHelper(path: hbs.AST.PathExpression, scope: Scope): boolean {
  const head = path.parts[0] as string;
  return path.parts.length === 1 && !path.data && path.depth === 0 && !isThis(path) && isHelper(head) && !scope.params.has(head);
}

function isThis(path: hbs.AST.PathExpression): boolean {
  return /^(?:this\b|\.)/.test(path.original);
}

function self(scope: Scope): Shape {
  return scope.contexts[0] ?? OPEN;
}

function fieldNames(shape: Shape): string[] {
  return shape.kind === "record" ? [...shape.fields.keys()] : [];
}

function describe(shape: Shape): string {
  if (shape.kind === "open") return "a value";
  const fields = fieldNames(shape);
  return fields.length === 0 ? shape.what : `${shape.what} (its fields: ${fields.join(", ")})`;
}

function didYouMean(word: string, candidates: Iterable<string>): string {
  const near = closest(word, candidates, typoDistance(word));
  return near === undefined ? "" : `; did you mean ${near}?`;
}

class PathWalker extends ScopedWalk<Shape, Scope> {
  readonly problems: PathProblem[] = [];
  private readonly seen = new Set<string>();

  constructor(ast: hbs.AST.Program) {
    super(ast, OPEN);
  }

  private report(loc: hbs.AST.SourceLocation, message: string, shadows?: true): void {
    const problem: PathProblem = { message, line: loc.start.line, column: loc.start.column + 1, ...(shadows ? { shadows } : {}) };
    const id = `${problem.line}:${problem.column}:${message}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.problems.push(problem);
  }

  protected partialScope(args: Shape[], hash: ReadonlyMap<string, Shape>, scope: Scope): Scope {
    // `@` variables pass into the partial.
    return { contexts: [withFields(args[0] ?? self(scope), hash), ...scope.contexts], params: new Map(), data: scope.data, unknownCaller: scope.unknownCaller };
  }

  protected mustache(m: hbs.AST.MustacheStatement, scope: Scope): void {
    if (m.path.type !== "PathExpression") return;
    const path = m.path as hbs.AST.PathExpression;
    if (m.params.length > 0 || m.hash !== undefined) return void this.call(path, m.params, m.hash, scope);
    if (isBareHelper(path, scope)) return this.bareHelper(path, m.loc, scope);
    const shape = this.path(path, scope, true);
    if (shape.kind === "record") {
      const fields = fieldNames(shape);
      const which = fields.length === 0 ? "" : `: write one of its fields, {{${path.original === "." || path.original === "this" ? "this" : path.original}.${fields[0]}}}`;
      this.report(path.loc, `{{${path.original}}} is ${shape.what}, an object: it renders as [object Object]${which}`);
    }
  }

  /** `{{cidr}}` calls the helper even where the context has a field `cidr`: say how to read the field. */
  private bareHelper(path: hbs.AST.PathExpression, loc: hbs.AST.SourceLocation, scope: Scope): void {
    const name = path.parts[0] as string;
    const context = self(scope);
    const plausible = context.kind === "open" || (context.kind === "record" && context.fields.has(name));
    if (plausible && (helperTable[name]?.arity[0] ?? 0) > 0) this.report(loc, shadowedFieldMessage(name, scope.selfName), true);
  }

  /** `{{#if getv "/x"}}` is a Go form, reported with what to write: its words are no paths. */
  protected override blockArguments(node: hbs.AST.BlockStatement, scope: Scope): Shape[] {
    return ONE_ARGUMENT_BLOCKS.has(node.path.original) && node.params.length > 1 ? [] : super.blockArguments(node, scope);
  }

  protected enterBlock({ name, args, hash, node }: BlockCall<Shape>, scope: Scope, bind: BindParams<Shape, Scope>): Scope {
    const selfName = node.program?.blockParams?.[0];
    if (name === "each") {
      const over = args[0] ?? OPEN;
      const item = over.kind === "list" ? over.item : OPEN;
      const data = new Map(scope.data);
      for (const d of LOOP_DATA) data.set(d, scalar(`@${d}`));
      return bind([item, scalar("an index or key")], { contexts: [item, ...scope.contexts], data, selfName });
    }
    if (name === "with") {
      const value = args[0] ?? OPEN;
      return bind([value], { contexts: [value, ...scope.contexts], selfName });
    }
    if (name === "let") return bind(args, { data: new Map([...scope.data, ...hash]) });
    return bind([]);
  }

  /** A helper call: its arguments are values; its result has the helper's shape. */
  private call(path: hbs.AST.PathExpression, params: hbs.AST.Expression[], hash: hbs.AST.Hash | undefined, scope: Scope): Shape {
    for (const e of params) this.value(e, scope);
    for (const pair of hash?.pairs ?? []) this.value(pair.value, scope);
    const name = path.parts[0] as string;
    if (!isHelper(name)) return OPEN;
    return RESULTS[name] ?? scalar(`the result of ${name}`);
  }

  protected value(e: hbs.AST.Expression, scope: Scope): Shape {
    if (e.type === "SubExpression") {
      const s = e as hbs.AST.SubExpression;
      return this.call(s.path as hbs.AST.PathExpression, s.params, s.hash, scope);
    }
    if (e.type === "PathExpression") return this.path(e as hbs.AST.PathExpression, scope, false);
    return scalar("a literal");
  }

  /** A path as a lookup (not a call). `bare`: printed alone, where a helper of that name would have been called. */
  private path(path: hbs.AST.PathExpression, scope: Scope, bare: boolean): Shape {
    const [head, ...rest] = path.parts;
    // Go variables ($x) are named by the Go-form check.
    if (head?.startsWith("$") || path.original === "-") return OPEN;
    if (path.data) return this.data(path, scope);
    if (path.depth > 0) return this.fields(scope.contexts[path.depth] ?? OPEN, path.parts, path, Array<string>(path.depth).fill("..").join("/"));
    if (isThis(path) || head === undefined) return this.fields(self(scope), path.parts, path, "this");
    const param = scope.params.get(head);
    if (param !== undefined) return this.fields(param, rest, path, head);
    const context = self(scope);
    if (context.kind === "record" && !context.fields.has(head)) {
      const candidates = [...fieldNames(context), ...scope.params.keys(), ...helperNames];
      const what = `${path.original} renders as nothing`;
      if (!bare && isHelper(head)) {
        this.report(path.loc, `${what}: it is no field of ${describe(context)}; to call the helper ${head} here, write (${head} …)`);
      } else {
        const goForm = unknownHelperHint(head);
        this.report(path.loc, `${what}: it is no helper, block param or field of ${describe(context)}${goForm === undefined ? didYouMean(head, candidates) : `; ${goForm}`}`);
      }
      return OPEN;
    }
    return this.fields(context, path.parts, path, "");
  }

  private data(path: hbs.AST.PathExpression, scope: Scope): Shape {
    const [head, ...rest] = path.parts;
    if (head === undefined || path.depth > 0 || scope.unknownCaller) return OPEN;
    const shape = scope.data.get(head);
    if (shape === undefined) {
      const known = [...scope.data.keys()].map((d) => `@${d}`);
      this.report(path.loc, `${path.original} renders as nothing: there is no data variable @${head} here (there are ${known.join(", ")})${didYouMean(`@${head}`, known)}`);
      return OPEN;
    }
    return this.fields(shape, rest, path, `@${head}`);
  }

  /** Follow `parts` into `shape`; `start` is how the path reads up to the first part, for messages. */
  private fields(shape: Shape, parts: readonly string[], path: hbs.AST.PathExpression, start: string): Shape {
    let current = shape;
    let reached = start;
    for (const part of parts) {
      const next = this.field(current, part);
      if (next === undefined) {
        const owner = reached === "" ? "it" : reached;
        this.report(path.loc, `${path.original} renders as nothing: ${owner} is ${describe(current)}, which has no field ${part}${didYouMean(part, fieldNames(current))}`);
        return OPEN;
      }
      current = next;
      reached = reached === "" ? part : `${reached}.${part}`;
    }
    return current;
  }

  private field(shape: Shape, part: string): Shape | undefined {
    if (shape.kind === "open") return OPEN;
    // A string's and a list's length are JavaScript's; a list's items are numbered.
    if (part === "length" && shape.kind !== "record") return scalar("a length");
    if (shape.kind === "list") return /^\d+$/.test(part) ? shape.item : undefined;
    if (shape.kind === "record") return shape.fields.get(part);
    return undefined;
  }
}

/** A partial's context: its context argument (or the caller's) with the named arguments as fields. */
function withFields(context: Shape, hash: ReadonlyMap<string, Shape>): Shape {
  if (hash.size === 0) return context;
  if (context.kind !== "record") return context.kind === "open" ? OPEN : { kind: "record", what: "the partial's context", fields: hash };
  return { kind: "record", what: "the partial's context", fields: new Map([...context.fields, ...hash]) };
}
