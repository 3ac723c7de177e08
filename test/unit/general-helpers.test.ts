import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeyIndex } from "../../src/mirror/key-index.js";
import type { HelperSpec, RenderScope } from "../../src/template/helper-spec.js";
import { generalHelpers } from "../../src/template/helpers/general.js";
import { thrownPerchError } from "../helpers/thrown.js";
import { Provenance } from "../../src/template/provenance.js";

function newScope(provenance: Record<string, string> = {}): RenderScope {
  return { view: new KeyIndex(), env: {}, provenance: new Provenance(Object.entries(provenance)) };
}

function helper(name: string): HelperSpec {
  const spec = generalHelpers[name];
  if (spec === undefined) throw new Error(`no helper ${name}`);
  return spec;
}

function call(name: string, ...args: unknown[]): unknown {
  return helper(name).fn(args, newScope());
}

const failure = thrownPerchError;

/** The message of the PerchError `name` throws for `args`, with no known keys. */
function errorOf(name: string, ...args: unknown[]): string {
  return failure(() => call(name, ...args)).message;
}

describe("the helper table", () => {
  const arities: Record<string, [number, number]> = {
    json: [1, 1],
    jsonArray: [1, 1],
    split: [2, 2],
    join: [2, 2],
    base: [1, 1],
    dir: [1, 1],
    eq: [2, Infinity],
    ne: [2, 2],
    lt: [2, 2],
    le: [2, 2],
    gt: [2, 2],
    ge: [2, 2],
    and: [2, Infinity],
    or: [2, Infinity],
    not: [1, 1],
    len: [1, 1],
    index: [2, Infinity],
    add: [2, 2],
    sub: [2, 2],
    mul: [2, 2],
    div: [2, 2],
    mod: [2, 2],
    toUpper: [1, 1],
    toLower: [1, 1],
    contains: [2, 2],
    hasPrefix: [2, 2],
    hasSuffix: [2, 2],
    replace: [3, 4],
    trimSuffix: [2, 2],
    trimPrefix: [2, 2],
    trim: [1, 1],
    printf: [1, Infinity],
    concat: [2, Infinity],
    default: [2, 2],
    hashToIPv4: [1, 1],
  };

  it("has exactly the general helpers, with their arities", () => {
    expect(Object.keys(generalHelpers).sort()).toEqual(Object.keys(arities).sort());
    for (const [name, arity] of Object.entries(arities)) expect(helper(name).arity, name).toEqual(arity);
  });

  it("documents every helper in one line that starts with its name", () => {
    for (const [name, spec] of Object.entries(generalHelpers)) {
      expect(spec.doc.startsWith(`${name} `), name).toBe(true);
      expect(spec.doc, name).not.toMatch(/\n/);
    }
  });
});

describe("json and jsonArray", () => {
  it("parses a JSON object (json) and a JSON array (jsonArray); JSON null is nothing, as Go leaves it", () => {
    expect(call("json", '{"a":{"b":[1,"x",null]}}')).toEqual({ a: { b: [1, "x", null] } });
    expect(call("json", " {} ")).toEqual({});
    // Go's json.Unmarshal of null into a map leaves it nil, no error: confd's json "null" has no fields.
    expect(call("json", "null")).toBeNull();
    expect(call("jsonArray", '["a",{"b":2}]')).toEqual(["a", { b: 2 }]);
    expect(call("jsonArray", "null")).toEqual([]);
  });

  // Issue 19, item 10: confd's json unmarshals into map[string]interface{}, an error for anything
  // else; perch parsed any value, so node_mesh = 42 turned the mesh silently off.
  it.each([
    ["42", "a number"],
    ["[1,2]", "an array: use jsonArray for an array"],
    ['"str"', "a string"],
    ["true", "a boolean"],
  ])("json rejects %s, naming the key", (source, what) => {
    const err = failure(() => helper("json").fn([source], newScope({ [source]: "/global/node_mesh" })));
    expect(err.message).toBe(`json: expected a JSON object, got ${JSON.stringify(source)} (from key /global/node_mesh): ${what}`);
    expect(err.context).toEqual({ key: "/global/node_mesh" });
  });

  it("jsonArray rejects anything but an array or null, as confd's (Go's json.Unmarshal into []interface{})", () => {
    for (const source of ["42", '"str"', "{}", "false"]) {
      expect(failure(() => call("jsonArray", source)).message).toBe(`jsonArray: expected a JSON array, got ${JSON.stringify(source)}`);
    }
  });

  it("records every string leaf under the key the document came from", () => {
    const doc = '{"cidr":"10.0.0.0/8","peers":[{"ip":"192.0.2.1"}],"asn":64512,"tags":["x"]}';
    const scope = newScope({ [doc]: "/v1/ipam/v4/pool/x" });
    helper("json").fn([doc], scope);
    expect(Object.fromEntries(scope.provenance)).toEqual({
      [doc]: "/v1/ipam/v4/pool/x",
      "10.0.0.0/8": "/v1/ipam/v4/pool/x",
      "192.0.2.1": "/v1/ipam/v4/pool/x",
      x: "/v1/ipam/v4/pool/x",
    });
  });

  it("records nothing when the document's key is unknown", () => {
    const scope = newScope();
    helper("jsonArray").fn(['["a"]'], scope);
    expect(scope.provenance.size).toBe(0);
  });

  it("walks documents nested deeper than the call stack", () => {
    const depth = 100_000;
    const doc = `${"[".repeat(depth)}"deep"${"]".repeat(depth)}`;
    const scope = newScope({ [doc]: "/deep" });
    helper("jsonArray").fn([doc], scope);
    expect(scope.provenance.get("deep")).toBe("/deep");
  });

  it("names the key and the JSON error for invalid JSON", () => {
    const jsonError = (source: string): string => {
      try {
        JSON.parse(source);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error("valid JSON");
    };
    const source = "{cidr: 1}";
    const err = failure(() => helper("json").fn([source], newScope({ [source]: "/v1/ipam/v4/pool/x" })));
    const detail = jsonError(source);
    expect(err.message).toBe(`json: invalid JSON "${source}" (from key /v1/ipam/v4/pool/x): ${detail}`);
    expect(err.context).toEqual({ key: "/v1/ipam/v4/pool/x" });

    const anonymous = failure(() => call("jsonArray", ""));
    expect(anonymous.message).toBe('jsonArray: invalid JSON "": Unexpected end of JSON input');
    expect(anonymous.context).not.toHaveProperty("key");
  });

  it("rejects a non-string and, for jsonArray, a non-array", () => {
    expect(errorOf("json", undefined)).toBe("json: expected a string, got undefined");
    expect(errorOf("json", { a: 1 })).toBe('json: expected a string, got {"a":1}');
    const err = failure(() => helper("jsonArray").fn(['{"a":1}'], newScope({ '{"a":1}': "/k" })));
    expect(err.message).toBe('jsonArray: expected a JSON array, got "{\\"a\\":1}" (from key /k)');
    expect(err.context).toEqual({ key: "/k" });
  });
});

describe("split and join", () => {
  it.each([
    ["a,b,c", ",", ["a", "b", "c"]],
    ["", ",", [""]],
    ["a,b,", ",", ["a", "b", ""]],
    ["abc", "", ["a", "b", "c"]],
    ["a😀b", "", ["a", "😀", "b"]],
    ["", "", []],
    ["a::b::c", "::", ["a", "b", "c"]],
    ["abc", "x", ["abc"]],
  ])("split %j %j is %j (Go strings.Split)", (s, sep, parts) => {
    expect(call("split", s, sep)).toEqual(parts);
  });

  it("joins a list with a separator", () => {
    expect(call("join", ["a", "b", "c"], ", ")).toBe("a, b, c");
    expect(call("join", [], ",")).toBe("");
    expect(call("join", ["a", 1, true], "-")).toBe("a-1-true");
    expect(call("join", call("split", "x/y/z", "/"), "."), "round trip").toBe("x.y.z");
  });

  it("rejects a join of a non-list or of non-scalar items", () => {
    expect(errorOf("join", "abc", ",")).toBe('join: expected a list, got "abc"');
    expect(errorOf("join", [{ a: 1 }], ",")).toBe('join: expected a string, got {"a":1}');
    expect(errorOf("split", null, ",")).toBe("split: expected a string, got null");
    // Every item is checked before the separator.
    expect(errorOf("join", ["a", null], undefined)).toBe("join: expected a string, got null");
    expect(errorOf("join", ["a"], undefined)).toBe("join: expected a string, got undefined");
  });

  it("records the source key of every part and of the joined result", () => {
    const scope = newScope({ "10.0.0.0-8": "/blocks/10.0.0.0-8" });
    const parts = helper("split").fn(["10.0.0.0-8", "-"], scope);
    expect(parts).toEqual(["10.0.0.0", "8"]);
    expect(scope.provenance.keyOf("10.0.0.0")).toBe("/blocks/10.0.0.0-8");
    expect(scope.provenance.keyOf("8")).toBe("/blocks/10.0.0.0-8");
    expect(helper("join").fn([parts, "/"], scope)).toBe("10.0.0.0/8");
    expect(scope.provenance.keyOf("10.0.0.0/8")).toBe("/blocks/10.0.0.0-8");
    // The first item with a key names the source; items that are not strings are skipped.
    expect(helper("join").fn([[1, "x", "8"], "_"], scope)).toBe("1_x_8");
    expect(scope.provenance.keyOf("1_x_8")).toBe("/blocks/10.0.0.0-8");
    expect(helper("toUpper").fn(["8"], scope)).toBe("8");
  });

  it("records nothing for a result whose source has no key", () => {
    const scope = newScope();
    expect(helper("split").fn(["a-b", "-"], scope)).toEqual(["a", "b"]);
    expect(helper("join").fn([["a", 1], "-"], scope)).toBe("a-1");
    expect(helper("base").fn(["/x/y"], scope)).toBe("y");
    expect(scope.provenance.size).toBe(0);
  });
});

describe("base and dir (Go path.Base and path.Dir)", () => {
  it.each([
    ["", "."],
    [".", "."],
    ["/.", "."],
    ["/", "/"],
    ["////", "/"],
    ["x/", "x"],
    ["abc", "abc"],
    ["abc/def", "def"],
    ["/a/b/", "b"],
    ["a/b/.x", ".x"],
    ["/calico/bgp/v1/host/node1", "node1"],
  ])("base %j is %j", (path, base) => {
    expect(call("base", path)).toBe(base);
  });

  it.each([
    ["", "."],
    [".", "."],
    ["/.", "/"],
    ["/", "/"],
    ["////", "/"],
    ["/foo", "/"],
    ["x/", "x"],
    ["abc", "."],
    ["abc/def", "abc"],
    ["abc////def", "abc"],
    ["/a/b", "/a"],
    ["/a/b/", "/a/b"],
    ["a/../b/c", "b"],
    ["../../a", "../.."],
    ["/../a/b", "/a"],
    ["a/./b/c.x", "a/b"],
  ])("dir %j is %j", (path, dir) => {
    expect(call("dir", path)).toBe(dir);
  });
});

describe("comparisons", () => {
  it("compares numbers numerically and everything else as strings", () => {
    expect(call("lt", 9, 10)).toBe(true);
    expect(call("lt", "9", "10")).toBe(false);
    expect(call("lt", "10", 9)).toBe(true);
    expect(call("eq", "1", 1)).toBe(true);
    expect(call("eq", 1, 1.0)).toBe(true);
    expect(call("eq", "01", 1)).toBe(false);
    expect(call("eq", true, "true")).toBe(true);
    expect(call("gt", "b", "a")).toBe(true);
    expect(call("ge", "a", "a")).toBe(true);
    expect(call("le", 2, 2)).toBe(true);
    expect(call("le", 3, 2)).toBe(false);
    expect(call("gt", -1, -2)).toBe(true);
    expect(call("ne", "a", "b")).toBe(true);
    expect(call("ne", "a", "a")).toBe(false);
  });

  it("orders strings by UTF-8 bytes, not UTF-16 units", () => {
    expect(call("lt", "Z", "a")).toBe(true);
    // U+FFFF is EF BF BF in UTF-8, below F0 9F 98 80; in UTF-16 the surrogate D83D sorts first.
    expect(call("lt", "\uffff", "😀")).toBe(true);
    expect(call("gt", "😀", "\uffff")).toBe(true);
    expect(call("lt", "a😀", "a\uffff"), "after a common prefix").toBe(false);
    expect(call("lt", "ab", "abc")).toBe(true);
    expect(call("gt", "\ue000", "\ud800"), "a lone surrogate is U+FFFD's bytes").toBe(false);
    expect(call("eq", "\ud800", "\ufffd")).toBe(true);
    expect(call("eq", "\udc00", "\ud800")).toBe(true);
    expect(call("lt", "\ud83d", "\ud83d\ude00"), "a lone high surrogate before its pair").toBe(true);
    expect(call("lt", "\ud800a", "\ufffdb")).toBe(true);
  });

  it("orders any two strings as Buffer.compare orders their UTF-8 bytes", () => {
    // UTF-8 length boundaries, surrogates (paired and lone) and the code points around them.
    const units = ["a", "z", "\u00e9", "\u07ff", "\u0800", "\ud83d", "\ude00", "\ud800", "\udfff", "\ue000", "\ufffd", "\uffff"];
    const unit = fc.constantFrom(...units);
    const text = fc.array(unit, { maxLength: 4 }).map((chosen) => chosen.join(""));
    fc.assert(
      fc.property(text, text, text, (prefix, x, y) => {
        const order = Buffer.compare(Buffer.from(prefix + x), Buffer.from(prefix + y));
        expect(call("lt", prefix + x, prefix + y)).toBe(order < 0);
        expect(call("eq", prefix + x, prefix + y)).toBe(order === 0);
        expect(call("gt", prefix + x, prefix + y)).toBe(order > 0);
      }),
      { numRuns: 2000 },
    );
  });

  it("is variadic for eq only, like Go", () => {
    expect(call("eq", "b", "a", "b", "c")).toBe(true);
    expect(call("eq", "d", "a", "b", "c")).toBe(false);
  });

  it("treats nil as equal only to nil", () => {
    expect(call("eq", undefined, null)).toBe(true);
    expect(call("eq", undefined, "")).toBe(false);
    expect(call("eq", 0, null)).toBe(false);
    expect(call("ne", null, 0)).toBe(true);
  });

  it("refuses to order nil or compare collections", () => {
    expect(errorOf("lt", undefined, 1)).toBe("lt: cannot compare undefined");
    expect(errorOf("ge", 1, null)).toBe("ge: cannot compare null");
    expect(errorOf("eq", [1], [1])).toBe("eq: cannot compare [1]");
    expect(errorOf("gt", { a: 1 }, "x")).toBe('gt: cannot compare {"a":1}');
    const err = failure(() => helper("le").fn([["x"], "y"], newScope()));
    expect(err.context).toEqual({});
  });
});

describe("and, or, not and Go truth", () => {
  const falsy: unknown[] = [false, 0, "", null, undefined, [], {}];
  const truthy: unknown[] = [true, 1, -1, "0", "false", " ", [0], { a: undefined }];

  it.each(falsy.map((v) => [v]))("%j is false", (value) => {
    expect(call("not", value)).toBe(true);
    expect(call("default", value, "fallback")).toBe("fallback");
    expect(call("and", value, "x")).toBe(value);
    expect(call("or", value, "x")).toBe("x");
  });

  it.each(truthy.map((v) => [v]))("%j is true", (value) => {
    expect(call("not", value)).toBe(false);
    expect(call("default", value, "fallback")).toBe(value);
    expect(call("and", value, "x")).toBe("x");
    expect(call("or", value, "x")).toBe(value);
  });

  it("returns the deciding value", () => {
    expect(call("and", "a", "b", "c")).toBe("c");
    expect(call("and", "a", 0, "c")).toBe(0);
    expect(call("and", "a", undefined, "c")).toBeUndefined();
    expect(call("or", "", 0, "c", "d")).toBe("c");
    expect(call("or", "", 0, null)).toBeNull();
  });
});

describe("len and index", () => {
  it("measures strings in UTF-8 bytes, lists in items, maps in keys", () => {
    expect(call("len", "abc")).toBe(3);
    expect(call("len", "")).toBe(0);
    expect(call("len", "é")).toBe(2);
    expect(call("len", [1, 2, 3])).toBe(3);
    expect(call("len", { a: 1, b: 2 })).toBe(2);
  });

  it("has no length for scalars or nil", () => {
    expect(errorOf("len", 5)).toBe("len: no length for 5");
    expect(errorOf("len", null)).toBe("len: no length for null");
    expect(errorOf("len", undefined)).toBe("len: no length for undefined");
  });

  it("indexes lists and maps, nested", () => {
    const doc = { peers: [{ ip: "192.0.2.1" }, { ip: "192.0.2.2" }] };
    expect(call("index", [10, 20, 30], 1)).toBe(20);
    expect(call("index", [10, 20, 30], "2")).toBe(30);
    expect(call("index", { a: "x" }, "a")).toBe("x");
    expect(call("index", doc, "peers", 1, "ip")).toBe("192.0.2.2");
    expect(call("index", { "1": "one" }, 1)).toBe("one");
  });

  it("gives undefined for a missing item, including inherited properties", () => {
    expect(call("index", [10], 5)).toBeUndefined();
    expect(call("index", [10], -1)).toBeUndefined();
    expect(call("index", { a: 1 }, "b")).toBeUndefined();
    for (const key of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      expect(call("index", { a: 1 }, key), key).toBeUndefined();
    }
    expect(call("index", JSON.parse('{"__proto__":"own"}'), "__proto__")).toBe("own");
  });

  it("refuses to index nothing, a scalar, or a list by a non-integer", () => {
    expect(errorOf("index", null, "a")).toBe("index: cannot index null");
    expect(errorOf("index", { a: 1 }, "b", "c")).toBe("index: cannot index undefined");
    expect(errorOf("index", "abc", 0)).toBe('index: cannot index "abc"');
    expect(errorOf("index", [1], "x")).toBe('index: expected an integer, got "x"');
    expect(errorOf("index", [1], 0.5)).toBe("index: expected an integer, got 0.5");
    expect(errorOf("index", { a: 1 }, ["a"])).toBe('index: expected a string, got ["a"]');
  });
});

describe("arithmetic", () => {
  it.each([
    ["add", 1, 2, 3],
    ["add", "40", 2, 42],
    ["add", "-3", "+5", 2],
    ["sub", 1, 3, -2],
    ["mul", "6", "7", 42],
    ["div", 7, 2, 3],
    ["div", -7, 2, -3],
    ["div", -1, 2, 0],
    ["mod", 7, 3, 1],
    ["mod", -7, 2, -1],
    ["mod", 7, -2, 1],
    ["mod", -4, 2, 0],
  ])("%s %j %j is %j", (name, a, b, result) => {
    // toBe compares with Object.is, so this also checks that no -0 escapes.
    expect(call(name, a, b)).toBe(result);
  });

  it.each(["abc", "1.5", " 1", "1 ", "1e3", "0x10", "", "１", "٣", "9007199254740993"])(
    "rejects the non-integer %j",
    (value) => {
      expect(errorOf("add", value, 1)).toBe(`add: expected an integer, got ${JSON.stringify(value)}`);
    },
  );

  it("rejects non-integer numbers and non-scalars, naming the key", () => {
    expect(errorOf("mul", 1, 1.5)).toBe("mul: expected an integer, got 1.5");
    expect(errorOf("sub", 1, undefined)).toBe("sub: expected an integer, got undefined");
    expect(errorOf("add", true, 1)).toBe("add: expected an integer, got true");
    const err = failure(() => helper("add").fn(["ten", 1], newScope({ ten: "/v1/x" })));
    expect(err.message).toBe('add: expected an integer, got "ten" (from key /v1/x)');
    expect(err.context).toEqual({ key: "/v1/x" });
  });

  it("refuses division by zero and results beyond exact integers", () => {
    expect(errorOf("div", 1, 0)).toBe("div: division by zero");
    expect(errorOf("mod", 1, "0")).toBe("mod: division by zero");
    expect(errorOf("mul", 2 ** 52, 4)).toBe("mul: result out of range: 18014398509481984");
  });
});

describe("string helpers", () => {
  it("changes case", () => {
    expect(call("toUpper", "node-1.Example")).toBe("NODE-1.EXAMPLE");
    expect(call("toLower", "NODE-1.Example")).toBe("node-1.example");
    expect(call("toUpper", 5)).toBe("5");
  });

  it("tests substrings, prefixes and suffixes", () => {
    expect(call("contains", "10.0.0.0/8", "/")).toBe(true);
    expect(call("contains", "abc", "")).toBe(true);
    expect(call("contains", "abc", "d")).toBe(false);
    expect(call("hasPrefix", "/calico/bgp", "/calico")).toBe(true);
    expect(call("hasPrefix", "/calico/bgp", "calico")).toBe(false);
    expect(call("hasSuffix", "bird.cfg", ".cfg")).toBe(true);
    expect(call("hasSuffix", "bird.cfg", "bird")).toBe(false);
  });

  it("trims prefixes, suffixes and white space", () => {
    expect(call("trimPrefix", "/calico/bgp", "/calico")).toBe("/bgp");
    expect(call("trimPrefix", "/calico/bgp", "/bgp")).toBe("/calico/bgp");
    expect(call("trimSuffix", "10.0.0.0/8", "/8")).toBe("10.0.0.0");
    expect(call("trimSuffix", "abc", "")).toBe("abc");
    expect(call("trimSuffix", "abcabc", "abc")).toBe("abc");
    expect(call("trim", " \t\n a b \r\v\f")).toBe("a b");
    // Go's unicode.IsSpace: U+0085 and U+00A0 are space, U+FEFF (which JS's trim strips) is not.
    expect(call("trim", "\u0085\u00a0x\u3000")).toBe("x");
    expect(call("trim", "\ufeffx\ufeff")).toBe("\ufeffx\ufeff");
  });

  it.each([
    ["oink oink oink", "k", "ky", -1, "oinky oinky oinky"],
    ["oink oink oink", "k", "ky", 2, "oinky oinky oink"],
    ["oink oink oink", "oink", "moo", "1", "moo oink oink"],
    ["oink oink oink", "k", "ky", 0, "oink oink oink"],
    ["aaa", "a", "b", 2, "bba"],
    ["aaaa", "aa", "b", -1, "bb"],
    ["abc", "", "-", -1, "-a-b-c-"],
    ["abc", "", "-", 2, "-a-bc"],
    ["", "", "-", -1, "-"],
    ["a😀", "", "-", -1, "-a-😀-"],
    ["abc", "x", "y", -1, "abc"],
  ])("replace %j %j %j %j is %j (Go strings.Replace)", (s, old, replacement, n, result) => {
    expect(call("replace", s, old, replacement, n)).toBe(result);
  });

  it("replaces every match when n is left out", () => {
    expect(call("replace", "a.b.c", ".", "_")).toBe("a_b_c");
  });

  it("rejects non-scalar arguments", () => {
    expect(errorOf("toUpper", undefined)).toBe("toUpper: expected a string, got undefined");
    expect(errorOf("contains", ["a"], "a")).toBe('contains: expected a string, got ["a"]');
    expect(errorOf("replace", "a", "a", "b", "all")).toBe('replace: expected an integer, got "all"');
  });
});

describe("printf and concat", () => {
  it("formats the Go verbs it supports", () => {
    expect(call("printf", "/host/%s/ip_addr_v4", "node1")).toBe("/host/node1/ip_addr_v4");
    expect(call("printf", "%s-%v-%d", "a", 2, "3")).toBe("a-2-3");
    expect(call("printf", "%d%%", 50)).toBe("50%");
    expect(call("printf", "no verbs")).toBe("no verbs");
    expect(call("printf", "%v", true)).toBe("true");
    expect(call("printf", "%x %x %x", "hi", 255, -255)).toBe("6869 ff -ff");
  });

  it("quotes %q like Go's strconv.Quote", () => {
    expect(call("printf", "%q", 'a "b" \\ c')).toBe('"a \\"b\\" \\\\ c"');
    expect(call("printf", "%q", "\n\t\r\x07\b\f\v")).toBe('"\\n\\t\\r\\a\\b\\f\\v"');
    expect(call("printf", "%q", "\x00\x1f\x7f")).toBe('"\\x00\\x1f\\x7f"');
    expect(call("printf", "%q", "\u0085\u2028\u{e0001}")).toBe('"\\u0085\\u2028\\U000e0001"');
    expect(call("printf", "%q", "é 😀")).toBe('"é 😀"');
  });

  it("fails rather than printing Go's error markers", () => {
    expect(errorOf("printf", "%s/%s", "a")).toBe("printf: missing argument for %s");
    expect(errorOf("printf", "%s", "a", "b")).toBe("printf: too many arguments (the format uses 1, got 2)");
    expect(errorOf("printf", "%5z", 1)).toBe('printf: unsupported verb "%5z" (supported: %s %v %d %q %x %X %f %F %e %E %g %G %t %%)');
    expect(errorOf("printf", "100%")).toBe('printf: unsupported verb "%" (supported: %s %v %d %q %x %X %f %F %e %E %g %G %t %%)');
    expect(errorOf("printf", "%d", "abc")).toBe('printf: expected an integer, got "abc"');
    expect(errorOf("printf", "%x", 1.5)).toBe("printf: expected an integer, got 1.5");
    expect(errorOf("printf", "%s", { a: 1 })).toBe('printf: expected a string, got {"a":1}');
    expect(errorOf("printf", undefined)).toBe("printf: expected a string, got undefined");
  });

  it("reports a bad format first (as perch check does), then problems in format order, too many arguments last", () => {
    const unsupported = (verb: string) => `printf: unsupported verb "%${verb}" (supported: %s %v %d %q %x %X %f %F %e %E %g %G %t %%)`;
    expect(errorOf("printf", "%s %z")).toBe(unsupported("z"));
    expect(errorOf("printf", "%z %s")).toBe(unsupported("z"));
    expect(errorOf("printf", "%z"), "unsupported before missing").toBe(unsupported("z"));
    expect(errorOf("printf", "%s%", "a")).toBe(unsupported(""));
    expect(errorOf("printf", "%", "a"), "unsupported before too many").toBe(unsupported(""));
    expect(errorOf("printf", "%z", 1, 2)).toBe(unsupported("z"));
    expect(errorOf("printf", "%d %z", "abc")).toBe(unsupported("z"));
    expect(errorOf("printf", "%d %s", "abc")).toBe('printf: expected an integer, got "abc"');
    expect(errorOf("printf", "%z %d", 1, "x")).toBe(unsupported("z"));
    expect(errorOf("printf", "%d %q", "x")).toBe('printf: expected an integer, got "x"');
    expect(errorOf("printf", "%s", 1, 2, 3)).toBe("printf: too many arguments (the format uses 1, got 3)");
    expect(errorOf("printf", "", 1)).toBe("printf: too many arguments (the format uses 0, got 1)");
    expect(errorOf("printf", "%s%%", 1, 2)).toBe("printf: too many arguments (the format uses 1, got 2)");
  });

  it("takes the whole code point after % as the verb", () => {
    expect(errorOf("printf", "%😀", 1)).toBe('printf: unsupported verb "%😀" (supported: %s %v %d %q %x %X %f %F %e %E %g %G %t %%)');
    expect(errorOf("printf", "a%\n", 1)).toBe('printf: unsupported verb "%\n" (supported: %s %v %d %q %x %X %f %F %e %E %g %G %t %%)');
    expect(errorOf("printf", "%\ud800x", 1)).toBe('printf: unsupported verb "%\ud800" (supported: %s %v %d %q %x %X %f %F %e %E %g %G %t %%)');
    expect(call("printf", "%%")).toBe("%");
    expect(call("printf", "%%%s%%", 1)).toBe("%1%");
    expect(call("printf", "😀%s😀", "é")).toBe("😀é😀");
    expect(call("printf", "")).toBe("");
    expect(call("printf", 5), "a scalar format is its text").toBe("5");
  });

  it("formats alike however many formats it has seen", () => {
    // Past the bound of parsed formats, the cache starts over; results must not change.
    for (let i = 0; i < 2500; i++) expect(call("printf", `%s-${i}-%d`, "n", i)).toBe(`n-${i}-${i}`);
    expect(call("printf", "%s-0-%d", "m", 7)).toBe("m-0-7");
    expect(errorOf("printf", "%s-1-%z", "m")).toBe('printf: unsupported verb "%z" (supported: %s %v %d %q %x %X %f %F %e %E %g %G %t %%)');
  });

  it("concatenates scalars", () => {
    expect(call("concat", "AS", 64512, "-", true)).toBe("AS64512-true");
    expect(errorOf("concat", "a", undefined)).toBe("concat: expected a string, got undefined");
  });
});

describe("hashToIPv4", () => {
  it("matches Calico's router id for kube-master", () => {
    // The `router id` in conformance/calico-v3.16/mesh/hash/expected/bird.cfg.
    expect(call("hashToIPv4", "kube-master")).toBe("25.79.212.8");
  });

  it("hashes the UTF-8 bytes", () => {
    // sha256("") starts e3 b0 c4 42; sha256 of the UTF-8 "nöde" starts 3f 2d c7 eb.
    expect(call("hashToIPv4", "")).toBe("227.176.196.66");
    expect(call("hashToIPv4", "nöde")).toBe("63.45.199.235");
    expect(errorOf("hashToIPv4", null)).toBe("hashToIPv4: expected a string, got null");
  });
});
