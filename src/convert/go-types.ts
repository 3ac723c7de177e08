/** The Go types the converter tracks: where Go and Handlebars differ depends on them. */

/** What the converter knows of a value's Go type. `any` is a value out of a JSON document. */
export type GoType = "string" | "bool" | "int" | "float" | "strings" | "kvs" | "kv" | "map" | "list" | "any" | "nil";

/** What `range` over a value of `type` visits, or undefined when Go cannot range over it. */
export function itemType(type: GoType): GoType | undefined {
  switch (type) {
    case "strings":
      return "string";
    case "kvs":
      return "kv";
    case "list":
    case "any":
      return "any";
    default:
      return undefined;
  }
}

/** The type of `.a.b` on a value of `type`. */
export function fieldType(type: GoType, fields: string[]): GoType {
  if (fields.length === 0) return type;
  return type === "kv" ? "string" : "any";
}

export function describeType(type: GoType): string {
  const names: Record<GoType, string> = {
    string: "string", bool: "boolean", int: "number", float: "number", strings: "list of strings", kvs: "list of key/value pairs",
    kv: "key/value pair", map: "JSON object", list: "JSON array", any: "JSON value", nil: "nil",
  };
  return names[type];
}

/** How Go prints a value Handlebars would print otherwise. */
export function goNotation(type: GoType): string {
  return type === "kv" ? "{key value}" : type === "map" ? "map[k:v]" : type === "nil" ? "<no value>" : "[a b]";
}
