/**
 * confd's function map (and Go's builtins) as perch helpers: which translate by name, what each
 * returns (the converter's types decide where Go and Handlebars would differ), and why the rest
 * cannot be translated.
 */
import type { GoType } from "./go-types.js";

export interface GoFunction {
  /** The perch helper of the same semantics. */
  helper: string;
  result: GoType | ((args: GoType[]) => GoType);
}

const same = (helper: string, result: GoFunction["result"]): GoFunction => ({ helper, result });

/** `and`/`or` return one of their arguments: its type when they all agree. */
function common(args: GoType[]): GoType {
  return args.every((t) => t === args[0]) ? (args[0] ?? "any") : "any";
}

/** The element type of `index` on a known collection. */
function element(args: GoType[]): GoType {
  if (args.length !== 2) return "any";
  return args[0] === "strings" ? "string" : args[0] === "kvs" ? "kv" : "any";
}

export const GO_FUNCTIONS: Readonly<Record<string, GoFunction>> = {
  getv: same("getv", "string"),
  gets: same("gets", "kvs"),
  getvs: same("getvs", "strings"),
  get: same("get", "kv"),
  ls: same("ls", "strings"),
  lsdir: same("lsdir", "strings"),
  exists: same("exists", "bool"),
  getenv: same("getenv", "string"),
  json: same("json", "map"),
  jsonArray: same("jsonArray", "list"),
  split: same("split", "strings"),
  join: same("join", "string"),
  base: same("base", "string"),
  dir: same("dir", "string"),
  toUpper: same("toUpper", "string"),
  toLower: same("toLower", "string"),
  contains: same("contains", "bool"),
  replace: same("replace", "string"),
  trimSuffix: same("trimSuffix", "string"),
  add: same("add", "int"),
  sub: same("sub", "int"),
  mul: same("mul", "int"),
  div: same("div", "int"),
  mod: same("mod", "int"),
  printf: same("printf", "string"),
  eq: same("eq", "bool"),
  ne: same("ne", "bool"),
  lt: same("lt", "bool"),
  le: same("le", "bool"),
  gt: same("gt", "bool"),
  ge: same("ge", "bool"),
  not: same("not", "bool"),
  and: same("and", common),
  or: same("or", common),
  len: same("len", "int"),
  index: same("index", element),
  // Calico's confd adds it (the router id hash of bird.cfg.template).
  hashToIPv4: same("hashToIPv4", "string"),
};

/** Why a confd or Go function has no perch form. */
export const UNTRANSLATABLE: Readonly<Record<string, string>> = {
  lookupIP: "lookupIP resolves DNS names at render time; perch renders from the store only",
  lookupIPV4: "lookupIPV4 resolves DNS names at render time; perch renders from the store only",
  lookupIPV6: "lookupIPV6 resolves DNS names at render time; perch renders from the store only",
  lookupSRV: "lookupSRV resolves DNS records at render time; perch renders from the store only",
  fileExists: "fileExists reads the file system at render time; perch renders from the store only",
  datetime: "datetime is the time of the render; perch's output depends on the store only",
  base64Encode: "perch has no base64Encode helper",
  base64Decode: "perch has no base64Decode helper",
  parseBool: "perch has no parseBool helper; compare with eq instead",
  reverse: "perch has no reverse helper",
  sortByLength: "perch has no sortByLength helper",
  sortKVByLength: "perch has no sortKVByLength helper",
  seq: "perch has no seq helper",
  atoi: "perch has no atoi: its arithmetic helpers take decimal strings, so drop the atoi",
  map: "perch has no map/createMap: bind values with let or pass a partial named arguments",
  createMap: "perch has no map/createMap: bind values with let or pass a partial named arguments",
  println: "println has no perch helper: write the text and a newline",
  html: "html escaping has no perch helper",
  js: "js escaping has no perch helper",
  urlquery: "urlquery escaping has no perch helper",
  call: "call has no perch form: templates cannot call function values",
  slice: "slice has no perch helper",
};
