/** The integer operand of arithmetic and printf's integer verbs, read as confd's Go ints are. */
import type { RenderScope } from "../helper-spec.js";
import { valueError } from "./formatters.js";

const INTEGER = /^[+-]?[0-9]+$/;

/** confd's arithmetic is on Go ints; store values are strings, so decimal strings count too. */
export function integer(helper: string, value: unknown, scope: RenderScope): number {
  const n = typeof value === "string" && INTEGER.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n)) {
    throw valueError(`${helper}: expected an integer, got`, value, scope);
  }
  return n;
}
