/**
 * A literal printf format against the Go types of its arguments: where Go would print an error
 * marker (`%!d(string=…)`, `%!v(MISSING)`) the conversion stops; where it depends on a JSON value's
 * type, it warns.
 */
import { parsePrintfFormat } from "../template/helpers/printf.js";
import { describeType, type GoType } from "./go-types.js";

export function printfDifferences(format: string, args: GoType[]): { error?: string; warnings: string[] } {
  const parsed = parsePrintfFormat(format);
  if (!parsed.ok) return { error: parsed.error.message, warnings: [] };
  const { directives } = parsed.format;
  if (directives.length !== args.length) {
    return { error: `printf: the format has ${directives.length} verbs for ${args.length} arguments (Go prints %!v(MISSING) or %!(EXTRA …))`, warnings: [] };
  }
  const warnings: string[] = [];
  for (const [i, d] of directives.entries()) {
    const type = args[i] as GoType;
    const marker = goMarker(d.verb, type);
    if (marker !== undefined) return { error: `printf: %${d.verb} of a ${describeType(type)}: Go prints ${marker}`, warnings };
    if (type !== "any") continue;
    // Go reads JSON numbers as float64: no JSON value is an integer for %d.
    if (d.verb === "d") return { error: "printf: %d of a value from a JSON document: Go prints %!d(float64=…) for a JSON number and %!d(string=…) for a string; use %v or %.0f", warnings };
    if (d.verb === "v") warnings.push("printf: %v of a value from a JSON document: Go prints a JSON number of 1e6 or more in exponent form (1e+06), perch as a whole number; use %.0f for whole numbers");
    else if (d.verb !== "q") {
      warnings.push(`printf: %${d.verb} of a value from a JSON document: where its JSON type does not suit %${d.verb} (a number for %s, a string for %f), Go prints %!${d.verb}(…) into the output and perch fails the render; a whole number with %x prints as a hexadecimal float in Go`);
    }
  }
  return { warnings };
}

/** What Go prints for a verb on a value of the wrong type, when the converter knows the type. */
function goMarker(verb: string, type: GoType): string | undefined {
  const goTypes: Partial<Record<GoType, string>> = { string: "string", int: "int", bool: "bool", float: "float64" };
  const goType = goTypes[type];
  if (goType === undefined) return undefined;
  const accepts: Record<string, readonly string[]> = {
    s: ["string"], q: ["string"], v: ["string", "int", "bool", "float64"], t: ["bool"], d: ["int"], x: ["string", "int", "float64"], X: ["string", "int", "float64"],
    f: ["float64"], F: ["float64"], e: ["float64"], E: ["float64"], g: ["float64"], G: ["float64"],
  };
  if (accepts[verb]?.includes(goType) === true) {
    // %x of a float is a hex float in Go; perch's printf takes integers only.
    return (verb === "x" || verb === "X") && goType === "float64" ? "a hexadecimal float" : undefined;
  }
  return `%!${verb}(${goType}=…)`;
}
