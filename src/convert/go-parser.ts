/** The parser of Go's text/template (text/template/parse/parse.go) over go-lexer's tokens. */
import { PerchError } from "../errors.js";
import type { GoCommand, GoDefinition, GoNode, GoOperand, GoPipeline, GoTemplate } from "./go-ast.js";
import { lexGoTemplate, type GoToken } from "./go-lexer.js";

const KEYWORDS = new Set(["block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"]);

/** What ended a list: `{{end}}`, `{{else}}` (with what follows it in the action), or the end of the file. */
type ListEnd = { kind: "end" } | { kind: "else"; line: number } | { kind: "eof" };

export function parseGoTemplate(source: string, file: string): GoTemplate {
  return new Parser(lexGoTemplate(source, file), file).template();
}

class Parser {
  private at = 0;
  private line = 1;
  private readonly definitions: GoDefinition[] = [];

  constructor(
    private readonly tokens: GoToken[],
    private readonly file: string,
  ) {}

  template(): GoTemplate {
    const { list, end } = this.list(true);
    if (end.kind !== "eof") this.fail(`unexpected {{${end.kind}}}`);
    return { list, definitions: this.definitions };
  }

  private fail(message: string, line = this.line): never {
    throw new PerchError(message, { file: this.file, line });
  }

  private peek(skipSpace = false): GoToken | undefined {
    let i = this.at;
    while (skipSpace && this.tokens[i]?.t === "space") i++;
    return this.tokens[i];
  }

  private next(): GoToken | undefined {
    return this.tokens[this.at++];
  }

  private skipSpace(): void {
    while (this.peek()?.t === "space") this.at++;
  }

  private expect(t: GoToken["t"], what: string): GoToken {
    this.skipSpace();
    const token = this.next();
    if (token?.t !== t) this.fail(`expected ${what} in action`);
    return token as GoToken;
  }

  private list(topLevel: boolean): { list: GoNode[]; end: ListEnd } {
    const list: GoNode[] = [];
    for (;;) {
      const token = this.next();
      if (token === undefined) return { list, end: { kind: "eof" } };
      if (token.t === "text") list.push({ kind: "text", text: token.value });
      else if (token.t === "comment") list.push({ kind: "comment", line: token.line, text: token.text });
      else if (token.t === "open") {
        this.line = token.line;
        const end = this.action(list, topLevel);
        if (end !== undefined) return { list, end };
      } else this.fail("unexpected token outside an action");
    }
  }

  /** One `{{…}}`: appends its node to `list`, or returns the `end`/`else` that closes the list. */
  private action(list: GoNode[], topLevel: boolean): ListEnd | undefined {
    const line = this.line;
    const first = this.peek(true);
    if (first?.t === "identifier" && KEYWORDS.has(first.value)) {
      this.skipSpace();
      this.next();
      switch (first.value) {
        case "end":
          this.expect("close", "}}");
          return { kind: "end" };
        case "else":
          return { kind: "else", line };
        case "if":
        case "with":
        case "range":
          list.push(this.control(first.value, line));
          return undefined;
        case "break":
        case "continue":
          this.expect("close", "}}");
          list.push({ kind: first.value, line });
          return undefined;
        case "template":
          list.push(this.templateCall(line));
          return undefined;
        case "define":
        case "block":
          this.definition(first.value, line, list, topLevel);
          return undefined;
      }
    }
    list.push({ kind: "action", line, pipeline: this.pipeline("command", "close") });
    return undefined;
  }

  private control(kind: "if" | "with" | "range", line: number): GoNode {
    const pipeline = this.pipeline(kind, "close");
    const body = this.list(false);
    let elseList: GoNode[] | undefined;
    if (body.end.kind === "else") elseList = this.elseBranch(kind, body.end.line);
    else if (body.end.kind === "eof") this.fail(`unexpected EOF: {{${kind}}} has no {{end}}`, line);
    return { kind, line, pipeline, list: body.list, elseList };
  }

  /** After `{{else`: `}}` then the list to `{{end}}`, or `if …}}`, a nested if that shares the `{{end}}`. */
  private elseBranch(kind: string, line: number): GoNode[] {
    const chained = this.peek(true);
    if (chained?.t === "identifier" && (chained.value === "if" || chained.value === "with")) {
      if (kind !== chained.value) this.fail(`{{else ${chained.value}}} inside {{${kind}}}`, line);
      this.skipSpace();
      this.next();
      return [this.control(chained.value, line)];
    }
    this.expect("close", "}}");
    const body = this.list(false);
    if (body.end.kind !== "end") this.fail(body.end.kind === "else" ? "more than one {{else}}" : `unexpected EOF: {{${kind}}} has no {{end}}`, line);
    return body.list;
  }

  private templateName(): string {
    const token = this.expect("string", "template name (a quoted string)");
    return (token as { value: string }).value;
  }

  private templateCall(line: number): GoNode {
    const name = this.templateName();
    this.skipSpace();
    if (this.peek()?.t === "close") {
      this.next();
      return { kind: "template", line, name, pipeline: undefined };
    }
    return { kind: "template", line, name, pipeline: this.pipeline("template", "close") };
  }

  private definition(kind: "define" | "block", line: number, list: GoNode[], topLevel: boolean): void {
    if (kind === "define" && !topLevel) this.fail("{{define}} is only allowed at the top level", line);
    const name = this.templateName();
    let pipeline: GoPipeline | undefined;
    this.skipSpace();
    if (kind === "block") pipeline = this.pipeline("block", "close");
    else this.expect("close", "}}");
    const body = this.list(false);
    if (body.end.kind !== "end") this.fail(`{{${kind}}} has no {{end}}`, line);
    if (this.definitions.some((d) => d.name === name)) this.fail(`template ${JSON.stringify(name)} is defined twice`, line);
    this.definitions.push({ name, line, list: body.list });
    if (kind === "block") list.push({ kind: "template", line, name, pipeline });
  }

  /** `[$x [, $y] :=|=] command [| command]…` up to `end` (`}}` or `)`). */
  private pipeline(context: string, end: "close" | "rparen"): GoPipeline {
    const pipeline: GoPipeline = { line: this.line, variables: [], assigns: false, commands: [] };
    this.declarations(pipeline, context);
    for (;;) {
      this.skipSpace();
      const token = this.peek();
      if (token?.t === end) {
        this.next();
        break;
      }
      pipeline.commands.push(this.command(end));
      this.skipSpace();
      if (this.peek()?.t === "pipe") this.next();
      else if (this.peek()?.t !== end) this.fail(`unexpected ${describe(this.peek())} in ${context}`);
    }
    if (pipeline.commands.length === 0) this.fail(`missing value for ${context}`);
    return pipeline;
  }

  private declarations(pipeline: GoPipeline, context: string): void {
    const start = this.at;
    const first = this.peek(true);
    if (first?.t !== "variable") return;
    this.skipSpace();
    this.next();
    const after = this.peek(true);
    if (after?.t === "declare" || after?.t === "assign") {
      this.skipSpace();
      this.next();
      pipeline.variables.push(first.value);
      pipeline.assigns = after.t === "assign";
      return;
    }
    if (after?.t === "comma" && context === "range") {
      this.skipSpace();
      this.next();
      const second = this.expect("variable", "a second variable");
      const op = this.peek(true);
      if (op?.t !== "declare" && op?.t !== "assign") this.fail("expected := after range variables");
      this.skipSpace();
      this.next();
      pipeline.variables.push(first.value, (second as { value: string }).value);
      pipeline.assigns = op?.t === "assign";
      return;
    }
    this.at = start;
  }

  private command(end: "close" | "rparen"): GoCommand {
    const operands: GoOperand[] = [];
    for (;;) {
      this.skipSpace();
      const token = this.peek();
      if (token === undefined || token.t === end || token.t === "pipe") break;
      operands.push(this.operand());
      const next = this.peek();
      if (next !== undefined && next.t !== "space" && next.t !== end && next.t !== "pipe") this.fail(`missing space before ${describe(next)}`);
    }
    if (operands.length === 0) this.fail("empty command");
    return { operands };
  }

  private operand(): GoOperand {
    const term = this.term();
    const fields: string[] = [];
    for (let token = this.peek(); token?.t === "field"; token = this.peek()) {
      this.next();
      fields.push(token.value);
    }
    if (fields.length === 0) return term;
    switch (term.kind) {
      case "dot":
        return { kind: "field", fields };
      case "field":
      case "variable":
      case "group":
        return { ...term, fields: [...term.fields, ...fields] };
      default:
        return this.fail(`unexpected . after term ${describeOperand(term)}`);
    }
  }

  private term(): GoOperand {
    const token = this.next();
    switch (token?.t) {
      case "identifier":
        if (token.value === "true" || token.value === "false") return { kind: "bool", value: token.value === "true" };
        if (token.value === "nil") return { kind: "nil" };
        if (KEYWORDS.has(token.value)) this.fail(`unexpected keyword ${token.value} in operand`);
        return { kind: "function", name: token.value };
      case "dot":
        return { kind: "dot" };
      case "field":
        return { kind: "field", fields: [token.value] };
      case "variable":
        return { kind: "variable", name: token.value, fields: [] };
      case "string":
        return { kind: "string", value: token.value };
      case "number":
        return { kind: "number", value: token.value, text: token.text };
      case "lparen":
        return { kind: "group", pipeline: this.pipeline("parenthesized pipeline", "rparen"), fields: [] };
      default:
        return this.fail(`unexpected ${describe(token)} in operand`);
    }
  }
}

function describe(token: GoToken | undefined): string {
  if (token === undefined) return "end of template";
  if (token.t === "close") return '"}}"';
  if ("value" in token) return `${token.t} ${JSON.stringify(token.value)}`;
  return token.t;
}

function describeOperand(operand: GoOperand): string {
  return "value" in operand ? JSON.stringify(operand.value) : operand.kind;
}
