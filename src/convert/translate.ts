// Over 300 lines: one case per Go template construct, each a few lines; split, the table would not read in one place.
/**
 * Go template AST → Handlebars, as a flat list of text and tags. Every construct either has a form
 * with the same output or stops the conversion with file:line and why; where only the store's data
 * can tell (a JSON value printed or ranged over), the conversion goes on with a warning.
 */
import { PerchError } from "../errors.js";
import { argumentCountMessage } from "../template/helper-spec.js";
import { builtinHelperNames, helperTable } from "../template/compile.js";
import { printfHelper } from "../template/helpers/printf.js";
import type { RenderScope } from "../template/helper-spec.js";
import type { GoCommand, GoControl, GoNode, GoOperand, GoPipeline, GoTemplate } from "./go-ast.js";
import { assigns, branchActions, withContinuation } from "./assignments.js";
import { GO_FUNCTIONS, UNTRANSLATABLE } from "./functions.js";
import { describeType, fieldType, goNotation, itemType, type GoType } from "./go-types.js";
import { printfDifferences } from "./printf-differences.js";

export type HbsToken = { kind: "text"; text: string } | { kind: "tag"; text: string };

export interface Translation {
  tokens: HbsToken[];
  warnings: PerchError[];
}

/** A translated expression: Handlebars text (a call in parentheses), and its Go type. */
interface Expr {
  text: string;
  type: GoType;
  call: boolean;
  /** A constant's text as Go prints it: Handlebars reads `{{"x"}}` as the field x, so constants are written as text. */
  printed?: string;
}

/** What `.` is: confd runs templates with no data, so at the top it is nil. */
interface Dot {
  type: GoType | "nil-root";
  /** Inside a define's body at its top: the partial's argument. */
  definition?: string;
}

interface Scope {
  dot: Dot;
  /** Go variable name → block param, and the loop body (frame) it was declared in. */
  variables: ReadonlyMap<string, { param: string; type: GoType; frame: number }>;
  /** Each range and with body is a frame of its own: an assignment must not cross one. */
  frame: number;
  /** How many assigning ifs took the rest of their list: each doubles what follows. */
  continuations: number;
}

const MAX_CONTINUATIONS = 6;
/** printf of a constant reads no store: the scope is never touched. */
const NO_SCOPE = {} as RenderScope;
const RESERVED = new Set<string>([...Object.keys(helperTable), ...builtinHelperNames, "this", "true", "false", "null", "undefined"]);
const SIMPLE_PARTIAL_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const KV_FIELDS: Readonly<Record<string, string>> = { Key: "key", Value: "value" };
const PRINTABLE: ReadonlySet<GoType> = new Set(["string", "int", "float", "bool"]);

export function translateGoTemplate(template: GoTemplate, file: string): Translation {
  return new Translator(file, template).run();
}

class Translator {
  private readonly tokens: HbsToken[] = [];
  /** Message and line of each place where the output may differ, depending on the data. */
  private readonly warnings: Array<[string, number]> = [];
  /** Definitions whose body reads its `.` at the top: a call without an argument would differ. */
  private readonly readsDot = new Set<string>();
  private readonly defined: Set<string>;
  private frames = 0;

  constructor(
    private readonly file: string,
    private readonly template: GoTemplate,
  ) {
    this.defined = new Set(template.definitions.map((d) => d.name));
  }

  run(): Translation {
    for (const definition of this.template.definitions) {
      this.tag(`{{#*inline ${JSON.stringify(definition.name)}}}`);
      this.list(definition.list, { dot: { type: "any", definition: definition.name }, variables: new Map(), frame: this.newFrame(), continuations: 0 });
      this.tag("{{/inline}}");
    }
    this.list(this.template.list, { dot: { type: "nil-root" }, variables: new Map(), frame: this.newFrame(), continuations: 0 });
    return { tokens: this.tokens, warnings: this.groupedWarnings() };
  }

  /** One warning per kind, at its first line, naming the others: a template prints many JSON fields. */
  private groupedWarnings(): PerchError[] {
    const lines = new Map<string, number[]>();
    for (const [message, line] of this.warnings) lines.set(message, [...(lines.get(message) ?? []), line]);
    return [...lines].map(([message, at]) => {
      const sorted = [...new Set(at)].sort((a, b) => a - b);
      const also = sorted.length > 1 ? ` (also line${sorted.length > 2 ? "s" : ""} ${sorted.slice(1).join(", ")})` : "";
      return new PerchError(`${message}${also}`, { file: this.file, line: sorted[0] });
    });
  }

  private newFrame(): number {
    return ++this.frames;
  }

  private fail(line: number, message: string): never {
    throw new PerchError(message, { file: this.file, line });
  }

  private warn(line: number, message: string): void {
    this.warnings.push([message, line]);
  }

  private tag(text: string): void {
    this.tokens.push({ kind: "tag", text });
  }

  private text(text: string): void {
    const last = this.tokens[this.tokens.length - 1];
    if (last?.kind === "text") last.text += text;
    else this.tokens.push({ kind: "text", text });
  }

  /**
   * A list; a `$x := …` action opens a `let` that closes at the end of the list, as Go's scope does,
   * and so does `$x = …` (the rest of the list sees the new value). An if whose branches assign takes
   * the rest of the list into each branch, so each sees its own value.
   */
  private list(nodes: GoNode[], outer: Scope): void {
    let scope = outer;
    let lets = 0;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i] as GoNode;
      if (node.kind === "action" && node.pipeline.variables.length > 0) {
        scope = this.declare(node.pipeline, scope);
        lets++;
      } else if (node.kind === "if" && assigns(node)) {
        if (scope.continuations >= MAX_CONTINUATIONS) {
          this.fail(node.line, `more than ${MAX_CONTINUATIONS} ifs on one path assign variables: each copies what follows it into its branches, doubling the converted template each time; assign in fewer ifs`);
        }
        this.checkRedeclarations(node, scope);
        scope = { ...scope, continuations: scope.continuations + 1 };
        this.ifBlock(withContinuation(node, nodes.slice(i + 1)), scope, "if");
        break;
      } else this.node(node, scope);
    }
    for (let i = 0; i < lets; i++) this.tag("{{/let}}");
  }

  /** The rest of the list joins each branch: a `:=` there of a name declared outside would hide it from the rest. */
  private checkRedeclarations(node: GoControl, scope: Scope): void {
    for (const action of branchActions(node)) {
      const [name] = action.pipeline.variables;
      if (!action.pipeline.assigns && name !== undefined && scope.variables.has(name)) {
        this.fail(action.line, `$${name} := … inside an if that assigns a variable: declare it under another name`);
      }
    }
  }

  private declare(pipeline: GoPipeline, scope: Scope): Scope {
    const [assigned = ""] = pipeline.variables;
    if (pipeline.assigns) {
      const declared = scope.variables.get(assigned);
      if (declared === undefined) this.fail(pipeline.line, `undefined variable "$${assigned}"`);
      if (declared.frame !== scope.frame) {
        this.fail(pipeline.line, `$${assigned} = … inside a range or with assigns a variable declared outside it; Handlebars has no assignment that outlives a block`);
      }
    }
    const value = this.pipeline(pipeline, scope);
    const [name = ""] = pipeline.variables;
    const { param, inner } = this.bind(scope, name, value.type);
    this.tag(`{{#let ${value.text} as |${param}|}}`);
    return inner;
  }

  /** A block param for Go's `$name`, renamed when it would shadow a helper. */
  private bind(scope: Scope, name: string, type: GoType): { param: string; inner: Scope } {
    let param = name;
    while (RESERVED.has(param)) param += "_";
    const variables = new Map(scope.variables);
    variables.set(name, { param, type, frame: scope.frame });
    return { param, inner: { ...scope, variables } };
  }

  private node(node: GoNode, scope: Scope): void {
    switch (node.kind) {
      case "text":
        this.text(node.text);
        return;
      case "comment":
        this.tag(`{{!--${node.text.replaceAll("--}}", "-- }}")}--}}`);
        return;
      case "action":
        this.output(node.line, this.pipeline(node.pipeline, scope));
        return;
      case "if":
        this.ifBlock(node, scope, "if");
        return;
      case "with":
        this.withBlock(node, scope);
        return;
      case "range":
        this.rangeBlock(node, scope);
        return;
      case "template":
        this.templateCall(node, scope);
        return;
      case "break":
      case "continue":
        this.fail(node.line, `{{${node.kind}}} has no Handlebars form: restructure the loop with an if`);
    }
  }

  private output(line: number, value: Expr): void {
    if (value.type === "any") {
      this.warn(line, "prints a value from a JSON document: Go prints <no value> where it is missing or null (perch prints nothing) and a number of 1e6 or more in exponent form (1e+06)");
    } else if (!PRINTABLE.has(value.type)) {
      const hint = value.type === "strings" ? ': write {{join … " "}} for the items' : "";
      this.fail(line, `printing a ${describeType(value.type)} gives Go's own notation (${goNotation(value.type)}), which perch does not reproduce${hint}`);
    }
    if (value.printed !== undefined) this.text(value.printed);
    else this.tag(`{{${bare(value)}}}`);
  }

  /** Go's truth and Handlebars' agree except on an empty map (false in Go): values that may be one are tested with not. */
  private condition(value: Expr): { helper: string; test: string } {
    if (value.type === "map" || value.type === "any") return { helper: "unless", test: `(not ${value.text})` };
    return { helper: "if", test: value.text };
  }

  private ifBlock(node: GoControl, scope: Scope, chain: "if" | "else"): void {
    let value = this.pipeline({ ...node.pipeline, variables: [] }, scope);
    let inner = scope;
    const [name] = node.pipeline.variables;
    if (name !== undefined) {
      if (chain === "else") this.fail(node.line, "a variable declared in {{else if}} has no Handlebars form: declare it before the if");
      if (node.pipeline.assigns) this.fail(node.line, "assigning to a variable in {{if}} has no Handlebars form");
      const bound = this.bind(scope, name, value.type);
      this.tag(`{{#let ${value.text} as |${bound.param}|}}`);
      inner = bound.inner;
      value = { text: bound.param, type: value.type, call: false };
    }
    const condition = this.condition(value);
    this.tag(chain === "if" ? `{{#${condition.helper} ${condition.test}}}` : `{{else ${condition.helper} ${condition.test}}}`);
    this.list(node.list, inner);
    const [only] = node.elseList ?? [];
    // `{{else if}}` is parsed as an else holding only the nested if; a plain else holding only an if renders the same.
    if (node.elseList?.length === 1 && only?.kind === "if") this.ifBlock(only, inner, "else");
    else this.plainElse(node.elseList, inner);
    if (chain === "if") this.tag(`{{/${condition.helper}}}`);
    if (name !== undefined) this.tag("{{/let}}");
  }

  private withBlock(node: GoControl, scope: Scope): void {
    const value = this.pipeline(node.pipeline, scope);
    const [name] = node.pipeline.variables;
    if (node.pipeline.assigns) this.fail(node.line, "assigning to a variable in {{with}} has no Handlebars form");
    const bound = name === undefined ? { param: undefined, inner: scope } : this.bind(scope, name, value.type);
    const inner: Scope = { ...bound.inner, dot: { type: value.type }, frame: this.newFrame() };
    // Handlebars' with runs its body for 0 and {}, Go's does not: such values are tested first.
    const guarded = value.type === "int" || value.type === "map" || value.type === "any" || value.type === "float";
    if (guarded) this.tag(`{{#unless (not ${value.text})}}`);
    this.tag(`{{#with ${value.text}${bound.param === undefined ? "" : ` as |${bound.param}|`}}}`);
    this.list(node.list, inner);
    if (guarded) {
      this.tag("{{/with}}");
      if (node.elseList !== undefined) {
        this.tag("{{else}}");
        this.list(node.elseList, scope);
      }
      this.tag("{{/unless}}");
      return;
    }
    this.plainElse(node.elseList, scope);
    this.tag("{{/with}}");
  }

  private plainElse(list: GoNode[] | undefined, scope: Scope): void {
    if (list === undefined) return;
    this.tag("{{else}}");
    this.list(list, scope);
  }

  private rangeBlock(node: GoControl, scope: Scope): void {
    if (node.pipeline.assigns) this.fail(node.line, "assigning to variables in {{range}} has no Handlebars form: declare them with :=");
    const value = this.pipeline(node.pipeline, scope);
    const item = itemType(value.type);
    if (value.type === "map") this.fail(node.line, "range over a JSON object: Go visits its keys in sorted order, Handlebars' each in the document's order");
    if (item === undefined) this.fail(node.line, `range over a ${describeType(value.type)}: Go cannot range over it`);
    if (value.type === "any") this.warn(node.line, "ranges over a value from a JSON document: if it is an object, Go visits its keys in sorted order, Handlebars' each in the document's order");
    let inner: Scope = { ...scope, dot: { type: item as GoType }, frame: this.newFrame() };
    const params: string[] = [];
    const names = node.pipeline.variables;
    // Go: `$v := list` binds the element; `$i, $v := list` the index (or key), then the element.
    const element = names.length === 2 ? names[1] : names[0];
    if (element !== undefined) {
      const bound = this.bind(inner, element, item as GoType);
      inner = bound.inner;
      params.push(bound.param);
    }
    if (names.length === 2) {
      const bound = this.bind(inner, names[0] as string, value.type === "any" ? "any" : "int");
      inner = bound.inner;
      params.push(bound.param);
    }
    this.tag(`{{#each ${value.text}${params.length > 0 ? ` as |${params.join(" ")}|` : ""}}}`);
    this.list(node.list, inner);
    this.plainElse(node.elseList, scope);
    this.tag("{{/each}}");
  }

  private templateCall(node: Extract<GoNode, { kind: "template" }>, scope: Scope): void {
    if (!this.defined.has(node.name)) this.fail(node.line, `no such template ${JSON.stringify(node.name)}`);
    if (node.pipeline === undefined) {
      if (this.readsDot.has(node.name)) this.fail(node.line, `{{template ${JSON.stringify(node.name)}}} passes no data, but the template reads "."; pass it: {{template ${JSON.stringify(node.name)} .}}`);
      this.tag(`{{> ${partialName(node.name)}}}`);
      return;
    }
    const value = this.pipeline(node.pipeline, scope);
    this.tag(`{{> ${partialName(node.name)} ${value.text}}}`);
  }

  private pipeline(pipeline: GoPipeline, scope: Scope): Expr {
    let value: Expr | undefined;
    for (const command of pipeline.commands) value = this.command(command, scope, pipeline.line, value);
    return value as Expr;
  }

  private command(command: GoCommand, scope: Scope, line: number, piped: Expr | undefined): Expr {
    const [head, ...rest] = command.operands;
    if (head?.kind !== "function") {
      if (rest.length > 0 || piped !== undefined) this.fail(line, `can't give an argument to a non-function ${describeOperand(head)}`);
      return this.operand(head as GoOperand, scope, line);
    }
    const args = rest.map((operand) => this.operand(operand, scope, line));
    if (piped !== undefined) args.push(piped);
    return this.call(head.name, args, line);
  }

  private call(name: string, args: Expr[], line: number): Expr {
    const why = UNTRANSLATABLE[name];
    if (why !== undefined) this.fail(line, `${name}: ${why}`);
    if (name === "print") return this.print(args, line);
    const fn = GO_FUNCTIONS[name];
    if (fn === undefined) this.fail(line, `function ${JSON.stringify(name)} not defined (neither confd nor Go has it)`);
    // Go's and/or/index of one argument is that argument.
    if ((name === "and" || name === "or" || name === "index") && args.length === 1) return args[0] as Expr;
    const spec = helperTable[fn.helper];
    if (spec !== undefined && (args.length < spec.arity[0] || args.length > spec.arity[1])) {
      this.fail(line, argumentCountMessage(name, spec.arity, args.length, "render"));
    }
    if (name === "printf") this.checkPrintf(args, line);
    if (name === "index" && args[0]?.type !== "map" && args.slice(1).some((a) => a.type !== "string")) {
      this.warn(line, "index of a list: Go fails the render on an index out of range, perch gives nothing");
    }
    const type = typeof fn.result === "function" ? fn.result(args.map((a) => a.type)) : fn.result;
    return { text: `(${fn.helper}${args.map((a) => ` ${a.text}`).join("")})`, type, call: true };
  }

  /** Go's print puts spaces between operands when neither is a string: only strings translate (to concat). */
  private print(args: Expr[], line: number): Expr {
    if (!args.every((a) => a.type === "string")) this.fail(line, "print of values that may not be strings: Go puts spaces between some of them; use printf");
    if (args.length === 1) return args[0] as Expr;
    return { text: `(concat${args.map((a) => ` ${a.text}`).join("")})`, type: "string", call: true };
  }

  /** A literal format is checked now: where Go would print an error marker, the conversion stops instead. */
  private checkPrintf(args: Expr[], line: number): void {
    const [format, ...values] = args;
    if (format?.printed === undefined || format.type !== "string") return;
    const { error, warnings } = printfDifferences(format.printed, values.map((v) => v.type));
    if (error !== undefined) this.fail(line, error);
    for (const warning of warnings) this.warn(line, warning);
  }

  private operand(operand: GoOperand, scope: Scope, line: number): Expr {
    switch (operand.kind) {
      case "string":
        return { text: this.stringLiteral(operand.value, line), type: "string", call: false, printed: operand.value };
      case "number": {
        if (!Number.isFinite(operand.value) || !/^-?[0-9]+(\.[0-9]+)?$/.test(String(operand.value))) this.fail(line, `the number ${operand.text} has no Handlebars literal`);
        const integer = Number.isInteger(operand.value) && !/^[+-]?[0-9_]*[.eE]/.test(operand.text);
        const printed = integer ? String(operand.value) : printfHelper.fn(["%v", operand.value], NO_SCOPE) as string;
        return { text: String(operand.value), type: integer ? "int" : "float", call: false, printed };
      }
      case "bool":
        return { text: String(operand.value), type: "bool", call: false, printed: String(operand.value) };
      case "nil":
        return { text: "null", type: "nil", call: false };
      case "function":
        return this.call(operand.name, [], line);
      case "dot":
        return { text: "this", type: this.readDot(scope, line), call: false };
      case "field": {
        const type = this.readDot(scope, line);
        const [first = "", ...rest] = this.fieldPath(type, operand.fields, line);
        const shadowed = RESERVED.has(first) || [...scope.variables.values()].some((v) => v.param === first);
        return { text: [shadowed ? `this.${first}` : first, ...rest].join("."), type: fieldType(type, operand.fields), call: false };
      }
      case "variable": {
        if (operand.name === "") this.fail(line, "$ is nil in confd (it runs templates with no data)");
        const variable = scope.variables.get(operand.name);
        if (variable === undefined) this.fail(line, `undefined variable "$${operand.name}"`);
        const path = this.fieldPath(variable.type, operand.fields, line);
        return { text: [variable.param, ...path].join("."), type: fieldType(variable.type, operand.fields), call: false };
      }
      case "group": {
        const value = this.pipeline(operand.pipeline, scope);
        if (operand.fields.length === 0) return value;
        const path = this.fieldPath(value.type, operand.fields, line);
        const text = path.reduce((inner, field) => `(lookup ${inner} "${field}")`, value.text);
        return { text, type: fieldType(value.type, operand.fields), call: true };
      }
    }
  }

  private readDot(scope: Scope, line: number): GoType {
    if (scope.dot.type === "nil-root") this.fail(line, '"." is nil here: confd runs templates with no data ("." has a value inside range and with)');
    if (scope.dot.definition !== undefined) this.readsDot.add(scope.dot.definition);
    return scope.dot.type;
  }

  /** Field names as perch spells them: a confd KVPair's Key and Value are key and value. */
  private fieldPath(type: GoType, fields: string[], line: number): string[] {
    if (fields.length === 0) return [];
    const [first = "", ...rest] = fields;
    if (type === "kv") {
      const mapped = KV_FIELDS[first];
      if (mapped === undefined) this.fail(line, `a key/value pair has only .Key and .Value, not .${first}`);
      if (rest.length > 0) this.fail(line, `.${first} is a string: it has no field .${rest[0]}`);
      return [mapped];
    }
    if (type !== "map" && type !== "any") this.fail(line, `a ${describeType(type)} has no field .${first}`);
    return fields;
  }

  private stringLiteral(value: string, line: number): string {
    if (!value.includes('"') && !value.endsWith("\\")) return `"${value}"`;
    if (!value.includes("'") && !value.endsWith("\\")) return `'${value}'`;
    if (!value.endsWith("\\")) return `"${value.replaceAll('"', '\\"')}"`;
    return this.fail(line, `the string ${JSON.stringify(value)} has no Handlebars literal (it ends with a backslash)`);
  }
}

/** A call printed as a mustache needs no parentheses: `{{getv "/k"}}`. */
function bare(value: Expr): string {
  return value.call && value.text.startsWith("(") && value.text.endsWith(")") ? value.text.slice(1, -1) : value.text;
}

function partialName(name: string): string {
  return SIMPLE_PARTIAL_NAME.test(name) ? name : JSON.stringify(name);
}

function describeOperand(operand: GoOperand | undefined): string {
  if (operand === undefined) return "nothing";
  return "value" in operand ? JSON.stringify(operand.value) : operand.kind;
}
