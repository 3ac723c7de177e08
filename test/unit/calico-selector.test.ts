// Calico label selectors: every form of the grammar, precedence, the fixtures' selectors, the
// prototype keys, the parse errors by exact message, and a round trip of random ASTs through text.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSelector, SelectorError } from "../../src/calico-v3/selector.js";

type Labels = Readonly<Record<string, string>>;

function matches(selector: string, labels: Labels): boolean {
  return parseSelector(selector).matches(labels);
}

function parseError(selector: string): SelectorError {
  try {
    parseSelector(selector);
  } catch (err) {
    if (err instanceof SelectorError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(selector)} not to parse`);
}

describe("parseSelector", () => {
  it("keeps the selector as written", () => {
    expect(parseSelector("  has(a) ").source).toBe("  has(a) ");
  });

  it("all() matches any labels, with or without space inside", () => {
    for (const selector of ["all()", "all( )", " all() "]) {
      expect(matches(selector, {})).toBe(true);
      expect(matches(selector, { a: "b" })).toBe(true);
    }
  });

  it("has(k) matches a label with any value, the empty one too", () => {
    expect(matches("has(a)", { a: "" })).toBe(true);
    expect(matches("has(a)", { a: "x" })).toBe(true);
    expect(matches("has(a)", { b: "x" })).toBe(false);
    expect(matches("has( a )", { a: "x" })).toBe(true);
  });

  it.each([
    ["k == 'v'", { k: "v" }, true],
    ['k == "v"', { k: "v" }, true],
    ["k == 'v'", { k: "w" }, false],
    ["k == 'v'", {}, false],
    ["k == ''", { k: "" }, true],
    ["k == ''", {}, false],
    ["k != 'v'", { k: "v" }, false],
    ["k != 'v'", { k: "w" }, true],
    ["k != 'v'", {}, true],
  ] as const)("%s on %j is %s", (selector, labels, expected) => {
    expect(matches(selector, labels)).toBe(expected);
  });

  it.each([
    ["k in {'a', \"b\"}", { k: "a" }, true],
    ["k in {'a', \"b\"}", { k: "b" }, true],
    ["k in {'a', \"b\"}", { k: "c" }, false],
    ["k in {'a', \"b\"}", {}, false],
    ["k in {}", { k: "" }, false],
    ["k in {}", {}, false],
    ["k in {'a'}", { k: "a" }, true],
    ["k in{'a','b'}", { k: "b" }, true],
    ["k in {'a',}", { k: "a" }, true],
    ["k not in {'a', 'b'}", { k: "a" }, false],
    ["k not in {'a', 'b'}", { k: "c" }, true],
    ["k not in {'a', 'b'}", {}, true],
    ["k not in {}", {}, true],
    ["k not in {}", { k: "a" }, true],
    ["k  not \t in  { 'a' }", { k: "a" }, false],
  ] as const)("%s on %j is %s", (selector, labels, expected) => {
    expect(matches(selector, labels)).toBe(expected);
  });

  it.each([
    ["k contains 'ell'", { k: "hello" }, true],
    ["k contains 'ell'", { k: "help" }, false],
    ["k contains ''", { k: "" }, true],
    ["k contains ''", {}, false],
    ["k contains 'x'", {}, false],
    ["k starts with 'he'", { k: "hello" }, true],
    ["k starts with 'lo'", { k: "hello" }, false],
    ["k starts with ''", {}, false],
    ["k starts\twith 'he'", { k: "hello" }, true],
    ["k ends with 'lo'", { k: "hello" }, true],
    ["k ends with 'he'", { k: "hello" }, false],
    ["k ends   with \"lo\"", { k: "hello" }, true],
    ["k ends with 'x'", {}, false],
  ] as const)("%s on %j is %s", (selector, labels, expected) => {
    expect(matches(selector, labels)).toBe(expected);
  });

  it("takes a string literal up to the next matching quote, with no escapes", () => {
    expect(matches(`k == "it's"`, { k: "it's" })).toBe(true);
    expect(matches(`k == 'say "hi"'`, { k: 'say "hi"' })).toBe(true);
    expect(matches(`k == 'a\\'`, { k: "a\\" })).toBe(true);
    expect(matches(`k == '&& || ( ) { } !'`, { k: "&& || ( ) { } !" })).toBe(true);
  });

  it("negates with !, which may repeat and binds tighter than && and ||", () => {
    expect(matches("!has(a)", {})).toBe(true);
    expect(matches("!has(a)", { a: "" })).toBe(false);
    expect(matches("!!has(a)", { a: "" })).toBe(true);
    expect(matches("! ! has(a)", {})).toBe(false);
    expect(matches("!!!has(a)", {})).toBe(true);
    expect(matches("!k == 'v'", { k: "v" })).toBe(false);
    expect(matches("!has(a) && has(b)", { b: "" })).toBe(true);
    expect(matches("!has(a) && has(b)", { a: "", b: "" })).toBe(false);
    expect(matches("!(has(a) && has(b))", { a: "" })).toBe(true);
    expect(matches("!all()", {})).toBe(false);
  });

  it("binds && tighter than ||", () => {
    const selector = "a == 'x' || b == 'y' && c == 'z'";
    expect(matches(selector, { a: "x" })).toBe(true); // a || (b && c), not (a || b) && c
    expect(matches(selector, { b: "y" })).toBe(false);
    expect(matches(selector, { b: "y", c: "z" })).toBe(true);
    expect(matches("has(a) && has(b) || has(c)", { c: "" })).toBe(true);
    expect(matches("has(a) && has(b) || has(c)", { a: "" })).toBe(false);
  });

  it("groups with parentheses", () => {
    const selector = "(a == 'x' || b == 'y') && c == 'z'";
    expect(matches(selector, { a: "x" })).toBe(false);
    expect(matches(selector, { a: "x", c: "z" })).toBe(true);
    expect(matches("has(a) && (has(b) || has(c))", { a: "", c: "" })).toBe(true);
    expect(matches("((( has(a) )))", { a: "" })).toBe(true);
    expect(matches("(has(a))&&(!has(b))", { a: "" })).toBe(true);
  });

  it("chains several && and || operands", () => {
    expect(matches("has(a) && has(b) && has(c)", { a: "", b: "", c: "" })).toBe(true);
    expect(matches("has(a) && has(b) && has(c)", { a: "", b: "" })).toBe(false);
    expect(matches("has(a) || has(b) || has(c)", { c: "" })).toBe(true);
    expect(matches("has(a) || has(b) || has(c)", {})).toBe(false);
  });

  it("ignores whitespace between tokens, and needs none where nothing is ambiguous", () => {
    for (const selector of ["group=='one'", "  group  ==  \"one\" ", "\tgroup\t==\t'one'\n", "group ==\r\n'one'"]) {
      expect(matches(selector, { group: "one" })).toBe(true);
      expect(matches(selector, { group: "two" })).toBe(false);
    }
    expect(matches("has(a)&&!has(b)||k!='v'", { k: "v" })).toBe(false);
    expect(matches("has(a)&&!has(b)||k!='v'", { a: "" })).toBe(true);
  });

  it("matches the fixtures' selectors as Calico does", () => {
    const reflector = { node: "rr1", routeReflector: "true", group: "one" };
    const client = { node: "c1", group: "two" };
    expect(matches("all()", client)).toBe(true);
    expect(matches("has(node)", client)).toBe(true);
    expect(matches("has(node)", {})).toBe(false);
    expect(matches("has(routeReflector)", reflector)).toBe(true);
    expect(matches("has(routeReflector)", client)).toBe(false);
    expect(matches("!has(routeReflector)", reflector)).toBe(false);
    expect(matches("!has(routeReflector)", client)).toBe(true);
    expect(matches("group=='one'", reflector)).toBe(true);
    expect(matches("group=='one'", client)).toBe(false);
    expect(matches("group=='two'", client)).toBe(true);
  });

  it("accepts label keys with a DNS-style prefix and the other key characters", () => {
    expect(matches("projectcalico.org/name == 'node-a'", { "projectcalico.org/name": "node-a" })).toBe(true);
    expect(matches("has(kubernetes.io/hostname)", { "kubernetes.io/hostname": "x" })).toBe(true);
    expect(matches("a_b-c.d/9 == 'v'", { "a_b-c.d/9": "v" })).toBe(true);
    expect(matches("1 == 'v'", { "1": "v" })).toBe(true);
    expect(matches(`${"k".repeat(512)} == 'v'`, { ["k".repeat(512)]: "v" })).toBe(true);
  });

  it("reads keywords as label keys where a key is expected", () => {
    expect(matches("in in {'a'}", { in: "a" })).toBe(true);
    expect(matches("not not in {'a'}", { not: "b" })).toBe(true);
    expect(matches("contains contains 'x'", { contains: "xx" })).toBe(true);
    expect(matches("has == 'x'", { has: "x" })).toBe(true);
    expect(matches("all != 'x'", { all: "x" })).toBe(false);
    expect(matches("has(has)", { has: "" })).toBe(true);
    expect(matches("hasx == 'y'", { hasx: "y" })).toBe(true);
  });

  it("looks up own labels only, never Object.prototype", () => {
    for (const key of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      expect(matches(`has(${key})`, {}), key).toBe(false);
      expect(matches(`${key} != 'x'`, {}), key).toBe(true);
      expect(matches(`${key} not in {'x'}`, {}), key).toBe(true);
      expect(matches(`${key} contains ''`, {}), key).toBe(false);
      expect(matches(`${key} starts with 'f'`, {}), key).toBe(false);
    }
    const ownProto = Object.fromEntries([["__proto__", "x"]]) as Labels;
    expect(matches("has(__proto__)", ownProto)).toBe(true);
    expect(matches("__proto__ == 'x'", ownProto)).toBe(true);
    expect(matches("has(a)", Object.assign(Object.create(null) as Record<string, string>, { a: "" }))).toBe(true);
  });

  it("can be evaluated again and again against different labels", () => {
    const selector = parseSelector("group in {'one', 'two'} && !has(routeReflector)");
    const nodes = Array.from({ length: 1000 }, (_, index) => ({ group: ["one", "two", "three"][index % 3] ?? "", ...(index % 5 === 0 ? { routeReflector: "" } : {}) }));
    const matched = nodes.filter((labels) => selector.matches(labels)).length;
    // 667 nodes are in group one or two; 133 of those are multiples of 5, the reflectors.
    expect(matched).toBe(667 - 133);
  });
});

describe("parse errors", () => {
  it.each([
    ["", "expected an expression at 0"],
    ["   ", "expected an expression at 3"],
    ["group == ", "expected a quoted string at 9"],
    ["group == one", "expected a quoted string at 9"],
    ["group", "expected an operator (==, !=, in, not in, contains, starts with or ends with) at 5"],
    ["group = 'one'", "unknown operator =, expected ==, !=, in, not in, contains, starts with or ends with at 6"],
    ["group === 'one'", "unknown operator ===, expected ==, !=, in, not in, contains, starts with or ends with at 6"],
    ["group is 'one'", "unknown operator is, expected ==, !=, in, not in, contains, starts with or ends with at 6"],
    ["group notin {}", "unknown operator notin, expected ==, !=, in, not in, contains, starts with or ends with at 6"],
    ["group startswith 'o'", "unknown operator startswith, expected ==, !=, in, not in, contains, starts with or ends with at 6"],
    ["group && has(a)", "expected an operator (==, !=, in, not in, contains, starts with or ends with) at 6"],
    ["group == 'one", "unterminated string, expected a closing ' at 9"],
    ['group == "one\'', 'unterminated string, expected a closing " at 9'],
    ["has(a) && all() has(b)", "expected &&, || or the end of the selector at 16"],
    ["has(a) )", "expected &&, || or the end of the selector at 7"],
    ["has(a) & has(b)", "expected &&, || or the end of the selector at 7"],
    ["has(a) | has(b)", "expected &&, || or the end of the selector at 7"],
    ["(has(a) || has(b)", "expected &&, || or ) at 17"],
    ["((has(a))", "expected &&, || or ) at 9"],
    ["has(a) &&", "expected an expression at 9"],
    ["|| has(a)", "expected an expression at 0"],
    ["has(a) || && has(b)", "expected an expression at 10"],
    ["()", "expected an expression at 1"],
    ["!", "expected an expression at 1"],
    ["!= 'x'", "expected an expression at 1"],
    ["has()", "expected a label key at 4"],
    ["has( )", "expected a label key at 5"],
    ["has(a", "expected ) at 5"],
    ["has(a b)", "expected ) at 6"],
    ["has (a)", "expected an operator (==, !=, in, not in, contains, starts with or ends with) at 4"],
    ["all(a)", "expected ) at 4"],
    ["k in 'a'", "expected { at 5"],
    ["k in {'a' 'b'}", "expected , or } at 10"],
    ["k in {'a',,}", "expected a quoted string or } at 10"],
    ["k in {,}", "expected a quoted string or } at 6"],
    ["k in {'a'", "expected , or } at 9"],
    ["k in {a}", "expected a quoted string or } at 6"],
    ["k not {'a'}", "expected in after not at 6"],
    ["k not", "expected in after not at 5"],
    ["k starts 'a'", "expected with after starts at 9"],
    ["k ends wit 'a'", "expected with after ends at 7"],
    ["k contains a", "expected a quoted string at 11"],
    ["@ == 'a'", "expected an expression at 0"],
    [`${"k".repeat(513)} == 'v'`, "label key longer than 512 characters at 0"],
  ])("%j: %s", (selector, problem) => {
    expect(parseError(selector).message).toBe(`selector ${JSON.stringify(selector)} : ${problem}`);
  });

  it("is a SelectorError whose position is the offset in the message", () => {
    const error = parseError("group == ");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("SelectorError");
    expect(error.position).toBe(9);
    expect(error.message).toBe('selector "group == " : expected a quoted string at 9');
  });
});

// The property: a random AST, printed as text and parsed, matches exactly what evaluating the AST
// directly says. The evaluator and printer here are independent of the parser under test.
type Node =
  | { kind: "all" }
  | { kind: "has"; key: string }
  | { kind: "==" | "!=" | "contains" | "starts with" | "ends with"; key: string; value: string }
  | { kind: "in" | "not in"; key: string; values: string[] }
  | { kind: "!"; operand: Node }
  | { kind: "&&" | "||"; left: Node; right: Node }
  | { kind: "()"; operand: Node };

const KEYS = ["a", "b", "group", "projectcalico.org/name", "x-y_z.1", "in", "constructor", "__proto__"];
const VALUES = ["", "one", "two", "on", "ne", "it's", 'say "hi"', "a b"];

const keyArb = fc.constantFrom(...KEYS);
const valueArb = fc.constantFrom(...VALUES);

const nodeArb: fc.Arbitrary<Node> = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", maxDepth: 6, withCrossShrink: true },
    fc.constant<Node>({ kind: "all" }),
    keyArb.map((key): Node => ({ kind: "has", key })),
    fc.record({ kind: fc.constantFrom("==" as const, "!=" as const, "contains" as const, "starts with" as const, "ends with" as const), key: keyArb, value: valueArb }),
    fc.record({ kind: fc.constantFrom("in" as const, "not in" as const), key: keyArb, values: fc.array(valueArb, { maxLength: 3 }) }),
    tie("node").map((operand): Node => ({ kind: "!", operand })),
    tie("node").map((operand): Node => ({ kind: "()", operand })),
    fc.record({ kind: fc.constantFrom("&&" as const, "||" as const), left: tie("node"), right: tie("node") }),
  ),
})).node;

function evaluate(node: Node, labels: Labels): boolean {
  const value = "key" in node && Object.hasOwn(labels, node.key) ? labels[node.key] : undefined;
  switch (node.kind) {
    case "all":
      return true;
    case "has":
      return value !== undefined;
    case "==":
      return value === node.value;
    case "!=":
      return value !== node.value;
    case "contains":
      return value !== undefined && value.includes(node.value);
    case "starts with":
      return value !== undefined && value.startsWith(node.value);
    case "ends with":
      return value !== undefined && value.endsWith(node.value);
    case "in":
      return value !== undefined && node.values.includes(value);
    case "not in":
      return value === undefined || !node.values.includes(value);
    case "!":
      return !evaluate(node.operand, labels);
    case "()":
      return evaluate(node.operand, labels);
    case "&&":
      return evaluate(node.left, labels) && evaluate(node.right, labels);
    case "||":
      return evaluate(node.left, labels) || evaluate(node.right, labels);
  }
}

function quote(value: string): string {
  return value.includes("'") ? `"${value}"` : `'${value}'`;
}

// Binding strength: || 1, && 2, ! and operands 3. A child weaker than its place gets parentheses.
function strength(node: Node): number {
  return node.kind === "||" ? 1 : node.kind === "&&" ? 2 : 3;
}

/** Print with only the parentheses precedence needs (plus the explicit "()" nodes); `gap` is the optional space. */
function print(node: Node, gap: string): string {
  const wrap = (child: Node, needed: number): string => (strength(child) < needed ? `(${gap}${print(child, gap)}${gap})` : print(child, gap));
  switch (node.kind) {
    case "all":
      return "all()";
    case "has":
      return `has(${gap}${node.key}${gap})`;
    case "==":
    case "!=":
      return `${node.key}${gap}${node.kind}${gap}${quote(node.value)}`;
    case "contains":
    case "starts with":
    case "ends with":
      return `${node.key} ${node.kind}${gap}${quote(node.value)}`;
    case "in":
    case "not in":
      return `${node.key} ${node.kind}${gap}{${gap}${node.values.map(quote).join(`,${gap}`)}${gap}}`;
    case "!":
      return `!${gap}${wrap(node.operand, 3)}`;
    case "()":
      return `(${gap}${print(node.operand, gap)}${gap})`;
    case "&&":
      // Left-associative: a left child of equal strength needs no parentheses, a right one does
      // only to keep the printed tree's shape (the value is the same either way).
      return `${wrap(node.left, 2)}${gap}&&${gap}${wrap(node.right, 3)}`;
    case "||":
      return `${wrap(node.left, 1)}${gap}||${gap}${wrap(node.right, 2)}`;
  }
}

const labelsArb: fc.Arbitrary<Labels> = fc.array(fc.tuple(keyArb, valueArb), { maxLength: 5 }).map((entries) => Object.fromEntries(entries));

describe("parsing a printed AST", () => {
  it("evaluates as the AST does, with and without optional whitespace", () => {
    fc.assert(
      fc.property(nodeArb, fc.constantFrom("", " ", "  \t"), fc.array(labelsArb, { minLength: 1, maxLength: 8 }), (node, gap, labelSets) => {
        const text = print(node, gap);
        const selector = parseSelector(text);
        for (const labels of labelSets) expect(selector.matches(labels), `${text} on ${JSON.stringify(labels)}`).toBe(evaluate(node, labels));
      }),
      { numRuns: 500 },
    );
  });
});
