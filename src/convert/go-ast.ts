/** The parsed form of a Go text/template, as much of it as confd templates use. */

/** An operand: a literal, `.`, a field chain, a variable, a function name, or a parenthesized pipeline. */
export type GoOperand =
  | { kind: "string"; value: string }
  | { kind: "number"; value: number; text: string }
  | { kind: "bool"; value: boolean }
  | { kind: "nil" }
  | { kind: "dot" }
  /** `.a.b` on dot (fields non-empty). */
  | { kind: "field"; fields: string[] }
  /** `$name.a.b` (`$` alone has name ""). */
  | { kind: "variable"; name: string; fields: string[] }
  | { kind: "function"; name: string }
  /** `(pipeline).a.b`. */
  | { kind: "group"; pipeline: GoPipeline; fields: string[] };

/** One command of a pipeline: a function and its arguments, or a lone operand. */
export interface GoCommand {
  operands: GoOperand[];
}

export interface GoPipeline {
  line: number;
  /** Variables declared (`$x :=`) or assigned (`$x =`) by the pipeline. */
  variables: string[];
  assigns: boolean;
  commands: GoCommand[];
}

/** `{{if}}`, `{{with}}` or `{{range}}`; `{{else if}}` is an else list holding only the nested if. */
export interface GoControl {
  kind: "if" | "with" | "range";
  line: number;
  pipeline: GoPipeline;
  list: GoNode[];
  elseList: GoNode[] | undefined;
}

export type GoNode =
  | { kind: "text"; text: string }
  | { kind: "action"; line: number; pipeline: GoPipeline }
  | { kind: "comment"; line: number; text: string }
  | GoControl
  | { kind: "template"; line: number; name: string; pipeline: GoPipeline | undefined }
  | { kind: "break" | "continue"; line: number };

export interface GoDefinition {
  name: string;
  line: number;
  list: GoNode[];
}

export interface GoTemplate {
  list: GoNode[];
  /** `define`d (and `block`) templates, in source order. */
  definitions: GoDefinition[];
}
