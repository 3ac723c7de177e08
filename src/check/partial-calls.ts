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
