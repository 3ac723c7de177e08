/**
 * Errors a user can cause carry their context as data (resource, file, line, key) so that logs,
 * `perch check` and tests can all read it without parsing messages.
 */
export interface ErrorContext {
  resource?: string;
  file?: string;
  line?: number;
  column?: number;
  key?: string;
  template?: string;
}

export class PerchError extends Error {
  readonly context: ErrorContext;

  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PerchError";
    this.context = context;
  }

  /** "file:line:column: message" — the form editors and CI annotations understand. */
  override toString(): string {
    return formatLocated(this.message, this.context);
  }

  withContext(extra: ErrorContext): PerchError {
    const merged = new PerchError(this.message, { ...extra, ...this.context }, { cause: this.cause });
    merged.stack = this.stack;
    return merged;
  }
}

export function formatLocated(message: string, ctx: ErrorContext): string {
  const file = ctx.file ?? ctx.template;
  if (file === undefined) return ctx.resource ? `${ctx.resource}: ${message}` : message;
  let where = file;
  if (ctx.line !== undefined) where += `:${ctx.line}`;
  if (ctx.line !== undefined && ctx.column !== undefined) where += `:${ctx.column}`;
  return `${where}: ${message}`;
}

export function errorMessage(err: unknown): string {
  if (err instanceof PerchError) return err.toString();
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Several problems found at once (e.g. every bad conf.d file): `perch check` reports them all. */
export class PerchErrors extends Error {
  readonly errors: PerchError[];

  constructor(errors: PerchError[]) {
    super(errors.map((e) => e.toString()).join("\n"));
    this.name = "PerchErrors";
    this.errors = errors;
  }
}
