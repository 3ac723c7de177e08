/**
 * JSON as Go's encoding/json writes it, which is what Calico's confd stores in its v1 view: compact,
 * fields in the order given, and `<`, `>`, `&`, U+2028, U+2029 escaped (JSON.stringify leaves them).
 */
const GO_ESCAPES: Record<string, string> = { "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029" };

export function goJson(value: unknown): string {
  // Outside strings, JSON.stringify's output holds none of these characters, so a global replace is safe.
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c] as string);
}
