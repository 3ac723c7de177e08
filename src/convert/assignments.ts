/**
 * Go's `$x = …` in an if: Handlebars has no assignment, so the rest of the list joins each branch,
 * where a `let` gives the variable its value for that branch.
 */
import type { GoControl, GoNode } from "./go-ast.js";

/** The actions of an if's branches, through nested ifs (a range or with body is a scope of its own). */
export function branchActions(node: GoControl): Array<Extract<GoNode, { kind: "action" }>> {
  const out: Array<Extract<GoNode, { kind: "action" }>> = [];
  for (const child of [...node.list, ...(node.elseList ?? [])]) {
    if (child.kind === "action") out.push(child);
    else if (child.kind === "if") out.push(...branchActions(child));
  }
  return out;
}

export function assigns(node: GoControl): boolean {
  return branchActions(node).some((action) => action.pipeline.assigns);
}

/** The if with `rest` after each branch (and as the else it lacks). */
export function withContinuation(node: GoControl, rest: GoNode[]): GoControl {
  const elseList = [...(node.elseList ?? []), ...rest];
  return { ...node, list: [...node.list, ...rest], elseList: elseList.length > 0 ? elseList : undefined };
}
