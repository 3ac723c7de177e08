/**
 * The walk both template checks make: statements in order, each block's program with its block params bound,
 * inline partials walked where they are called with the caller's scope. A check says what an expression is
 * worth to it and which scope a block or a partial opens.
 */
import { inlinePartials, PartialCalls } from "./partial-calls.js";

/** A block as a check sees it: its name and its arguments' values. */
export interface BlockCall<Value> {
  name: string;
  args: Value[];
  hash: ReadonlyMap<string, Value>;
  node: hbs.AST.BlockStatement;
}

/** Binds the block's params (`as |a b|`) to values, in order; `extra` replaces other fields of the scope. */
export type BindParams<Value, Scope> = (values: Value[], extra?: Partial<Scope>) => Scope;

export abstract class ScopedWalk<Value, Scope extends { readonly params: ReadonlyMap<string, Value> }> {
  private readonly partials: PartialCalls<Scope>;

  /** `unbound`: the value of a block param the block does not give. */
  protected constructor(
    ast: hbs.AST.Program,
    private readonly unbound: Value,
  ) {
    this.partials = new PartialCalls(inlinePartials(ast), (body, scope) => this.program(body, scope));
  }

  /** The whole template in `root`, then each inline partial nobody calls once, in `uncalled`. */
  walk(ast: hbs.AST.Program, root: Scope, uncalled: Scope): void {
    this.program(ast, root);
    this.partials.uncalled(uncalled);
  }

  protected abstract value(e: hbs.AST.Expression, scope: Scope): Value;
  protected abstract mustache(m: hbs.AST.MustacheStatement, scope: Scope): void;
  /** What entering the block means to the check, and the scope its program runs in. */
  protected abstract enterBlock(block: BlockCall<Value>, scope: Scope, bind: BindParams<Value, Scope>): Scope;
  /** The scope of a partial's body: block params stay behind. */
  protected abstract partialScope(args: Value[], hash: ReadonlyMap<string, Value>, scope: Scope): Scope;

  protected blockArguments(node: hbs.AST.BlockStatement, scope: Scope): Value[] {
    return node.params.map((e) => this.value(e, scope));
  }

  protected program(program: hbs.AST.Program | undefined, scope: Scope): void {
    for (const node of program?.body ?? []) this.statement(node, scope);
  }

  private statement(node: hbs.AST.Node, scope: Scope): void {
    switch (node.type) {
      case "MustacheStatement":
        return this.mustache(node as hbs.AST.MustacheStatement, scope);
      case "BlockStatement":
        return this.block(node as hbs.AST.BlockStatement, scope);
      case "PartialStatement":
      case "PartialBlockStatement": {
        const p = node as hbs.AST.PartialStatement | hbs.AST.PartialBlockStatement;
        const args = p.params.map((e) => this.value(e, scope));
        const inner = this.partialScope(args, this.hashValues(p.hash, scope), scope);
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
    const args = this.blockArguments(node, scope);
    const hash = this.hashValues(node.hash, scope);
    const names = node.program?.blockParams ?? [];
    const bind: BindParams<Value, Scope> = (values, extra = {}) => {
      const params = new Map(scope.params);
      names.forEach((param, i) => params.set(param, values[i] ?? this.unbound));
      return { ...scope, params, ...extra };
    };
    this.program(node.program, this.enterBlock({ name: node.path.original, args, hash, node }, scope, bind));
    this.program(node.inverse, scope);
  }

  private hashValues(hash: hbs.AST.Hash | undefined, scope: Scope): Map<string, Value> {
    return new Map((hash?.pairs ?? []).map((pair) => [pair.key, this.value(pair.value, scope)] as const));
  }
}
