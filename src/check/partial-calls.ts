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

/**
 * Inline partials walked where they are called, with the caller's scope; a partial that calls
 * itself is not followed again; those nobody calls are walked once at the end, with the scope given.
 */
export class PartialCalls<Scope> {
  private readonly called = new Set<string>();
  private readonly active: string[] = [];

  constructor(
    private readonly partials: ReadonlyMap<string, hbs.AST.Program>,
    private readonly walk: (body: hbs.AST.Program, scope: Scope) => void,
  ) {}

  call(name: string, scope: Scope, body = this.partials.get(name)): void {
    if (body === undefined || this.active.includes(name)) return;
    this.called.add(name);
    this.active.push(name);
    this.walk(body, scope);
    this.active.pop();
  }

  uncalled(scope: Scope): void {
    for (const [name, body] of this.partials) if (!this.called.has(name)) this.call(name, scope, body);
  }
}
