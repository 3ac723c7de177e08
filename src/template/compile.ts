/**
 * The Handlebars engine: its own environment, no HTML escaping, only known helpers (an unknown one
 * fails at load, not as an empty string at render), every helper error located at its line.
 */
import { createRequire } from "node:module";
import type Hbs from "handlebars";
import runtime from "handlebars/runtime.js";
import { PerchError } from "../errors.js";
import { TextPieces, textOf, type RenderedText } from "../render/rendered-text.js";
import { argumentCountMessage, type Arity, type HelperSpec, type HelperTable, type RenderScope } from "./helper-spec.js";
import type { RenderMemo } from "./memo.js";
import { bind, childFrame, iterationFrame, type DataFrame } from "./iteration-frame.js";
import { storeHelpers } from "./helpers/store.js";
import { generalHelpers } from "./helpers/general.js";
import { deprecatedFormatterHelpers, formatterHelpers } from "./helpers/formatters.js";
import { goIsmAtParseError, goIsmsInTemplate, unknownHelperHint } from "./go-isms.js";
import { openSpecCache, type SpecCache } from "./spec-cache.js";
import { closest, typoDistance } from "../util/closest.js";

type HandlebarsCompiler = typeof Hbs;
/** handlebars/runtime.d.ts declares nothing; the runtime is the full API minus the compiler. */
const Handlebars = runtime as unknown as HandlebarsCompiler;
type TemplateSpecification = ReturnType<HandlebarsCompiler["precompile"]>;

/** The compiler is twice the runtime's modules: loaded only for a template not in the spec cache. */
const loadCommonJs = createRequire(import.meta.url);
let compiler: HandlebarsCompiler | undefined;

/** Parsed once: Go forms that parse as Handlebars but can only be mistakes fail here, with the form to write. */
function precompile(source: string): string {
  compiler ??= loadCommonJs("handlebars") as HandlebarsCompiler;
  // Unprocessed: precompile applies the white space control itself, and it must run once.
  const ast = compiler.parseWithoutProcessing(source);
  const goIsm = goIsmsInTemplate(ast, source, isHelper)[0];
  if (goIsm !== undefined) throw new PerchError(goIsm.message, { line: goIsm.line, column: goIsm.column });
  readDataNotHelpers(ast);
  // precompile's declared type is a spec object; at run time it is the spec's source text.
  return compiler.precompile(ast, compileOptions) as unknown as string;
}

/**
 * Alone in a mustache, Handlebars calls a helper named like a data variable instead of reading it
 * (`{{@index}}` calls `index`). A leading "." makes the path scoped, so the compiler reads the data.
 */
function readDataNotHelpers(ast: hbs.AST.Program): void {
  const { Visitor } = compiler as HandlebarsCompiler;
  const visitor = new Visitor();
  visitor.MustacheStatement = function (this: Hbs.Visitor, node: hbs.AST.MustacheStatement): void {
    const path = node.path as hbs.AST.PathExpression;
    if (path.type === "PathExpression" && path.data && path.parts.length === 1 && isHelper(path.parts[0] as string) && node.params.length === 0 && node.hash === undefined) {
      path.original = `.${path.original}`;
    }
    Visitor.prototype.MustacheStatement.call(this, node);
  };
  visitor.accept(ast);
}

export const helperTable: HelperTable = { ...storeHelpers, ...generalHelpers, ...formatterHelpers, ...deprecatedFormatterHelpers };

/** Handlebars' built-ins and perch's `let` (block helpers and `lookup`/`log`): known to the compiler, not in the arity table. */
export const builtinHelperNames = ["let", "if", "unless", "each", "with", "lookup", "log"] as const;

/** Every name the compiler calls as a helper: the helper table, Handlebars' built-ins and `let`. */
export const helperNames: readonly string[] = [...Object.keys(helperTable), ...builtinHelperNames];
const helperNameSet: ReadonlySet<string> = new Set(helperNames);

/** A name the compiler calls as a helper. */
export function isHelper(name: string): boolean {
  return helperNameSet.has(name);
}

export interface CompiledTemplate {
  /** The template's path as the user wrote it (relative to templates/), for messages. */
  name: string;
  file: string;
  /** The output as the writer takes it: with a memo, the pieces its top-level loops' runs make (rendered-text.ts). */
  renderText(scope: RenderScope): RenderedText;
  /** The output as one string. */
  render(scope: RenderScope): string;
}

const compileOptions: CompileOptions = {
  noEscape: true,
  // Handlebars's default, said explicitly: helpers need the data frame (the render scope travels in it).
  data: true,
  knownHelpersOnly: true,
  // Go's {{template}} does not re-indent; neither do perch's partials.
  preventIndent: true,
  knownHelpers: Object.fromEntries(helperNames.map((n) => [n, true])),
};

type CompileOptions = Parameters<HandlebarsCompiler["compile"]>[1] & object;

const engine = Handlebars.create();
for (const [name, spec] of Object.entries(helperTable)) engine.registerHelper(name, wrapHelper(name, spec));
engine.registerHelper("let", letHelper);
const builtinEach = engine.helpers.each as Hbs.HelperDelegate;
engine.registerHelper("each", memoEach);

interface TemplateData {
  perch: RenderScope;
  perchTemplate: string;
}

/** Opened at the first compile, not at import: opening creates the cache directory. */
let specCache: { cache: SpecCache | undefined } | undefined;

function cachedSpecs(): SpecCache | undefined {
  // The AST rules (Go forms, data read before helpers) are part of the key: a spec cached before a rule existed would skip it.
  specCache ??= { cache: openSpecCache(`${Handlebars.VERSION}\0${JSON.stringify(compileOptions)}\0go-isms 1\0data-not-helpers 1`) };
  return specCache.cache;
}

/**
 * Parse and compile a template now, not lazily at its first render, so syntax errors and unknown
 * helpers are reported at load time with their line. The generated code is cached on disk.
 */
export function compileTemplate(name: string, file: string, source: string): CompiledTemplate {
  let template: Hbs.TemplateDelegate;
  try {
    const cache = cachedSpecs();
    let spec = cache?.get(source);
    if (spec === undefined) {
      spec = precompile(source);
      cache?.set(source, spec);
    }
    template = engine.template(trackCallers(new Function(`return (${spec});`)() as TemplateSpecification));
  } catch (err) {
    throw templateError(err, name, source);
  }
  return {
    name,
    file,
    renderText(scope) {
      const memo = scope.memo;
      memo?.begin();
      try {
        const output = template({}, { data: { perch: scope, perchTemplate: name } });
        const pieces = memo === undefined ? output : memo.piecesOf(output);
        memo?.end(pieces !== undefined);
        // A top-level loop's mark that did not come through as made: the render again, plainly (the memo starts afresh).
        if (pieces === undefined) return template({}, { data: { perch: { ...scope, memo: undefined }, perchTemplate: name } });
        return typeof pieces === "string" ? pieces : new TextPieces(pieces);
      } catch (err) {
        memo?.end(false);
        throw templateError(err, name);
      }
    },
    render(scope) {
      return textOf(this.renderText(scope));
    },
  };
}

type HelperOptions = Hbs.HelperOptions & { loc?: hbs.AST.SourceLocation; data: TemplateData };

/**
 * `{{#each}}` over a list, memoized per item when the render has a RenderMemo (watch mode); everything else is
 * Handlebars' own each.
 */
function memoEach(this: unknown, context: unknown, options: HelperOptions & { blockParams?: unknown }): unknown {
  // Typed here: Handlebars types its options' data as any.
  const memo: RenderMemo | undefined = options.data?.perch?.memo;
  const loc = options.loc;
  if (memo === undefined || memo.plain || !Array.isArray(context) || context.length === 0 || loc === undefined) {
    return builtinEach.call(this, context, options);
  }
  const caller = { context: this, data: options.data as unknown as DataFrame, blockParams: options.blockParams, depths: memo.callerDepths, partials: memo.callerPartials };
  const site = memo.enter(`${loc.start.line}:${loc.start.column}`, caller);
  const items: readonly unknown[] = context;
  // `as |item i|`: the block param is a plain array element, so naming it counts as reading the index.
  const namesIndex = (options.fn as { blockParams?: number }).blockParams === 2;
  return memo.loop(site, items, (i, position) => {
    const item = items[i];
    if (namesIndex) position.readIndex = true;
    // As Handlebars' each joins them: a body that is one expression returns its value, not text.
    return "" + options.fn(item, { data: iterationFrame(options.data as unknown as DataFrame, position), blockParams: [item, i] });
  });
}

type ProgramFunction = (container: unknown, depth0: unknown, helpers: unknown, partials: unknown, data: { perch?: RenderScope } | undefined, blockParams: unknown, depths: unknown) => unknown;

/**
 * A helper is not given the parent contexts (`../`) or the partials of the code that calls it; a loop's iterations
 * can see both. With a memo, every program of a template that uses them tells it whose they are while it runs.
 */
function trackCallers(spec: TemplateSpecification): TemplateSpecification {
  const programs = spec as unknown as Record<string, unknown> & { useDepths?: boolean; usePartial?: boolean };
  if (!programs.useDepths && !programs.usePartial) return spec;
  for (const [name, value] of Object.entries(programs)) {
    if (typeof value !== "function" || !/^(\d+|main)$/.test(name)) continue;
    const program = value as ProgramFunction;
    programs[name] = function tracked(this: unknown, container, depth0, helpers, partials, data, blockParams, depths) {
      const memo = data?.perch?.memo;
      if (memo === undefined) return program.call(this, container, depth0, helpers, partials, data, blockParams, depths);
      const [outerDepths, outerPartials] = [memo.callerDepths, memo.callerPartials];
      memo.callerDepths = depths;
      memo.callerPartials = partials;
      try {
        return program.call(this, container, depth0, helpers, partials, data, blockParams, depths);
      } finally {
        memo.callerDepths = outerDepths;
        memo.callerPartials = outerPartials;
      }
    } satisfies ProgramFunction;
  }
  return spec;
}

/** Handlebars passes a helper its arguments, then its options: popping those leaves the argument list. */
function wrapHelper(name: string, spec: HelperSpec) {
  // Outside the per-call function: array destructuring runs the iterator protocol on every call.
  const [min, max] = spec.arity;
  return function helper(this: unknown, ...args: unknown[]): unknown {
    const options = args.pop() as HelperOptions;
    try {
      if (args.length < min || args.length > max) throw new PerchError(wrongCountMessage(name, spec.arity, args.length, this));
      return spec.fn(args, options.data.perch);
    } catch (err) {
      throw locate(err, options.data.perchTemplate, options.loc);
    }
  };
}

/** A bare `{{cidr}}` in a context that has a field `cidr` meant the field, not the helper: say how to read it. */
function wrongCountMessage(name: string, arity: Arity, count: number, context: unknown): string {
  const hasField = count === 0 && typeof context === "object" && context !== null && Object.hasOwn(context, name);
  return hasField ? shadowedFieldMessage(name) : argumentCountMessage(name, arity, count, "render");
}

/** `{{name}}` with no arguments calls the helper `name`; a field of that name needs a path (render and check say it alike). */
export function shadowedFieldMessage(name: string, blockParam?: string): string {
  const named = blockParam === undefined ? "" : ` or {{${blockParam}.${name}}}`;
  return `{{${name}}} calls the helper ${name}, not the field ${name}: write {{this.${name}}}${named}`;
}

/**
 * `{{#let name=value}}…{{@name}}…{{/let}}` binds data variables for the block (Go templates'
 * `$name := value`); positional arguments bind block params: `{{#let (json value) as |v|}}`.
 */
function letHelper(this: unknown, ...blockParams: unknown[]): unknown {
  const options = blockParams.pop() as Hbs.HelperOptions;
  const data = childFrame(options.data as DataFrame | undefined);
  bind(data, options.hash as Record<string, unknown>);
  // The bundle is not strict code: a string context (a partial's argument, a loop over names) arrives boxed; unbox it.
  const context = this instanceof String || this instanceof Number || this instanceof Boolean ? this.valueOf() : this;
  return options.fn(context, { data, blockParams });
}

function locate(err: unknown, template: string, loc: hbs.AST.SourceLocation | undefined): PerchError {
  const base = err instanceof PerchError ? err : new PerchError(err instanceof Error ? err.message : String(err), {}, { cause: err });
  if (loc === undefined) return base.withContext({ template });
  return base.withContext({ template, line: loc.start.line, column: loc.start.column + 1 });
}

/**
 * Handlebars reports positions as "… - 3:7" or via lineNumber/column; turn them into context. A parse error at a
 * Go form says which Handlebars form to write instead.
 */
function templateError(err: unknown, template: string, source?: string): PerchError {
  if (err instanceof PerchError) return err.withContext({ template });
  const e = err as Error & { lineNumber?: number; column?: number };
  let message = e instanceof Error ? e.message : String(err);
  let line = e.lineNumber;
  let column = e.column === undefined ? undefined : e.column + 1;
  const suffix = /\s+-\s+(\d+):(\d+)$/.exec(message);
  if (suffix) {
    line ??= Number(suffix[1]);
    column ??= Number(suffix[2]) + 1;
    message = message.slice(0, suffix.index);
  }
  const parse = /^Parse error on line (\d+):/.exec(message);
  if (parse) {
    line ??= Number(parse[1]);
    message = `syntax error: ${message.replace(/^Parse error on line \d+:\s*/, "").replace(/\n/g, " ").replace(/\s+/g, " ")}`;
  }
  const unknown = /^You specified knownHelpersOnly, but used the unknown helper (\S+)$/.exec(message);
  if (unknown) message = unknownHelperMessage(unknown[1] as string);
  // Only compiling passes the source: a template that does not compile may hold a Go form on the failing line.
  const goIsm = source === undefined || line === undefined || unknown ? undefined : goIsmAtParseError(source, line);
  if (goIsm !== undefined) return new PerchError(goIsm.message, { template, line: goIsm.line, column: goIsm.column }, { cause: err });
  return new PerchError(message, { template, line, column }, { cause: err });
}

/** `unknown helper NAME`, with the Handlebars form when NAME is a Go keyword (render and check say it alike). */
export function unknownHelperMessage(name: string): string {
  const hint = unknownHelperHint(name);
  if (hint !== undefined) return `unknown helper ${name}: ${hint}`;
  const near = closest(name, helperNames, typoDistance(name));
  return near === undefined ? `unknown helper ${name}` : `unknown helper ${name}; did you mean ${near}?`;
}
