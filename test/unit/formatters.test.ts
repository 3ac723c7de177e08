import { isIPv6 } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PerchError } from "../../src/errors.js";
import { KeyIndex } from "../../src/mirror/key-index.js";
import type { HelperSpec, RenderScope } from "../../src/template/helper-spec.js";
import { deprecatedFormatterHelpers, deprecatedFormatterNames, formatterHelpers } from "../../src/template/helpers/formatters.js";
import { generalHelpers } from "../../src/template/helpers/general.js";
import { thrownPerchError } from "../helpers/thrown.js";
import { Provenance } from "../../src/template/provenance.js";

function newScope(provenance: Record<string, string> = {}): RenderScope {
  return { view: new KeyIndex(), env: {}, provenance: new Provenance(Object.entries(provenance)) };
}

function helper(name: string): HelperSpec {
  const spec = formatterHelpers[name] ?? generalHelpers[name];
  if (spec === undefined) throw new Error(`no helper ${name}`);
  return spec;
}

function format(name: string, value: unknown, scope: RenderScope = newScope()): unknown {
  return helper(name).fn([value], scope);
}

const failure = thrownPerchError;

const FORMATTERS = [
  "ipv4",
  "ipv6",
  "asIP",
  "cidrv4",
  "cidrv6",
  "asCIDR",
  "asASN",
  "asPort",
  "asBirdIdent",
  "asBirdString",
  "asCommunity",
  "asUint",
];
/** asBirdString takes free text, where ; { } are harmless inside the quotes; everything else is strict. */
const STRICT = FORMATTERS.filter((name) => name !== "asBirdString");

describe("the formatter table", () => {
  it("has exactly the validating formatters, each taking one argument", () => {
    expect(Object.keys(formatterHelpers).sort()).toEqual([...FORMATTERS].sort());
    for (const name of FORMATTERS) {
      expect(helper(name).arity, name).toEqual([1, 1]);
      expect(helper(name).doc.startsWith(`${name} `), name).toBe(true);
    }
  });

  it("keeps each old name as a deprecated alias of its as… formatter, for one release", () => {
    expect(deprecatedFormatterNames).toEqual({
      ip: "asIP",
      cidr: "asCIDR",
      port: "asPort",
      asn: "asASN",
      uint: "asUint",
      community: "asCommunity",
      birdIdent: "asBirdIdent",
      birdString: "asBirdString",
    });
    for (const [old, current] of Object.entries(deprecatedFormatterNames)) {
      const alias = deprecatedFormatterHelpers[old] as HelperSpec;
      expect(alias.fn, old).toBe(helper(current).fn);
      expect(alias.doc, old).toBe(`${old} v: deprecated name of ${current} (it goes in the next release)`);
    }
    expect(() => format("asPort", 0)).toThrow("invalid port 0");
    expect((deprecatedFormatterHelpers.port as HelperSpec).fn(["179"], newScope())).toBe("179");
  });
});

const VALID: Record<string, unknown[]> = {
  ipv4: ["0.0.0.0", "10.0.0.1", "192.168.1.254", "255.255.255.255"],
  ipv6: [
    "::",
    "::1",
    "fe80::1",
    "2001:db8::",
    "2001:DB8:0:0:0:0:0:1",
    "::ffff:192.0.2.1",
    "1:2:3:4:5:6:7::",
    "::2:3:4:5:6:7:8",
    "1:2:3::6:7:8",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "1:2:3:4:5:6:1.2.3.4",
  ],
  asIP: ["10.0.0.1", "2001:db8::1", "::"],
  cidrv4: ["10.0.0.0/8", "0.0.0.0/0", "192.0.2.1/32", "192.168.0.0/16"],
  cidrv6: ["::/0", "2001:db8::/32", "fd00::1/128"],
  asCIDR: ["10.0.0.0/8", "2001:db8::/32", "0.0.0.0/0", "::/128"],
  asASN: ["0", "64512", "4294967295", "65000"],
  asPort: ["1", "179", "65535"],
  asUint: ["0", "42", "18446744073709551615"],
  asBirdIdent: ["a", "_", "x9", "Mesh_192_168_1_1", "Node_10_0_0_1", "bgp_peer"],
  asBirdString: ["", "node1", "a;b{c}", "pass word", "ünïcödé 😀", "'single'", "10.0.0.0/8; }"],
  asCommunity: ["0:0", "65000:100", "65535:65535", "1:2:3", "4294967295:0:4294967295"],
};

const INVALID: Record<string, unknown[]> = {
  ipv4: ["256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.4/32", "::1", "0x0a.0.0.1", 167772161],
  ipv6: [
    "fe80::1%eth0",
    ":::",
    "2001:db8::g",
    "10.0.0.1",
    "1:2:3:4:5:6:7:8:9",
    "[::1]",
    "::1/128",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "1::2::3",
    "12345::",
    ":1::",
    "1::2:",
    "1:",
    ":1",
    ":",
    "1:2:3:4:5:6:7:1.2.3.4",
    "::1.2.3.04",
  ],
  asIP: ["localhost", "10.0.0.256", "fe80::1%1", "1.2.3.4:179"],
  cidrv4: [
    "10.0.0.0/33",
    "10.0.0.0",
    "10.0.0.0/",
    "/8",
    "10.0.0.0/08",
    "10.0.0.0/-1",
    "10.0.0.0/+8",
    "10.0.0.0 /8",
    "10.0.0.0/8/8",
    "::/0",
    "256.0.0.0/8",
  ],
  cidrv6: ["::/129", "fe80::1%eth0/64", "10.0.0.0/8", "::/064", "::", "2001:db8::/3 2"],
  asCIDR: ["10.0.0.0/33", "10.0.0.0/64", "::/129", "10.0.0.0"],
  asASN: [
    "4294967296",
    "-1",
    "+1",
    "064512",
    "1.10",
    "6451 2",
    "AS64512",
    "0x10",
    "",
    "9007199254740993",
    "99999999999999999999",
    4294967296,
    -1,
    1.5,
  ],
  asPort: ["0", "65536", "0179", "179.0", "http", "9007199254740993", 0, 65536, 179.5, -179],
  asUint: ["-1", "1.0", "01", "1e3", "", -1, 0.5, 1e21, NaN, Infinity],
  asBirdIdent: ["9x", "", "a-b", "a.b", "a b", "é", "Node_１", "a\u200b"],
  asBirdString: [
    'say "hi"',
    "back\\slash",
    "line\nbreak",
    "cr\r",
    "tab\t",
    "nul\u0000",
    "del\u007f",
    "c\u0085",
  ],
  asCommunity: [
    "65536:1",
    "1:65536",
    "1",
    "1:2:3:4",
    "1::2",
    ":1",
    "1:2:",
    "4294967296:1:1",
    "(65000,1)",
    "1:01",
  ],
};

describe.each(FORMATTERS)("%s", (name) => {
  it.each((VALID[name] ?? []).map((v) => [v]))("accepts %j and returns it unchanged", (value) => {
    expect(format(name, value)).toBe(value);
  });

  it.each((INVALID[name] ?? []).map((v) => [v]))("rejects %j", (value) => {
    expect(() => format(name, value)).toThrow(PerchError);
  });

  it.each([[undefined], [null], [true], [["10.0.0.1"]], [{ a: "1" }]])("rejects the non-scalar %j", (v) => {
    expect(() => format(name, v)).toThrow(PerchError);
  });
});

describe("numbers from JSON", () => {
  it("are accepted where JSON carries them, and returned as strings", () => {
    expect(format("asASN", 64512)).toBe("64512");
    expect(format("asASN", 0)).toBe("0");
    expect(format("asASN", 4294967295)).toBe("4294967295");
    expect(format("asPort", 179)).toBe("179");
    expect(format("asUint", 42)).toBe("42");
    expect(format("asUint", -0)).toBe("0");
  });
});

describe("error messages", () => {
  it.each([
    ["ipv4", "10.0.0.0/8; }", 'invalid IPv4 address "10.0.0.0/8; }"'],
    ["ipv6", "fe80::1%eth0", 'invalid IPv6 address "fe80::1%eth0"'],
    ["asIP", "localhost", 'invalid IP address "localhost"'],
    ["cidrv4", "10.0.0.0/33", 'invalid IPv4 CIDR "10.0.0.0/33"'],
    ["cidrv6", "::/129", 'invalid IPv6 CIDR "::/129"'],
    ["asCIDR", "10.0.0.0", 'invalid CIDR "10.0.0.0"'],
    ["asASN", "1; import all", 'invalid AS number "1; import all"'],
    ["asPort", 70000, "invalid port 70000"],
    ["asUint", -1, "invalid unsigned integer -1"],
    ["asBirdIdent", "a-b", 'invalid BIRD identifier "a-b"'],
    ["asBirdString", '"; include "/etc/shadow', 'invalid BIRD string "\\"; include \\"/etc/shadow"'],
    ["asBirdString", "a\nb", 'invalid BIRD string "a\\nb"'],
    ["asCommunity", "65536:1", 'invalid BGP community "65536:1"'],
    ["asASN", undefined, "invalid AS number undefined"],
    ["ipv4", null, "invalid IPv4 address null"],
    ["ipv4", ["10.0.0.1"], 'invalid IPv4 address ["10.0.0.1"]'],
  ])("%s %j: %s", (name, value, message) => {
    const err = failure(() => format(name, value));
    expect(err.message).toBe(message);
    expect(err.context).toEqual({});
    expect(err.context).not.toHaveProperty("key");
  });

  it("names the key the value was read from", () => {
    const scope = newScope({ "10.0.0.0/8; }": "/v1/ipam/v4/pool/x" });
    const err = failure(() => format("ipv4", "10.0.0.0/8; }", scope));
    expect(err.message).toBe('invalid IPv4 address "10.0.0.0/8; }" (from key /v1/ipam/v4/pool/x)');
    expect(err.context).toEqual({ key: "/v1/ipam/v4/pool/x" });
  });

  it("names the key of a field inside a JSON document", () => {
    const doc = JSON.stringify({ cidr: "10.0.0.0/8; } protocol static evil {", ipip: "Always" });
    const scope = newScope({ [doc]: "/calico/v1/ipam/v4/pool/10.0.0.0-8" });
    const pool = generalHelpers.json?.fn([doc], scope);
    const cidr = generalHelpers.index?.fn([pool, "cidr"], scope);
    const err = failure(() => format("cidrv4", cidr, scope));
    expect(err.message).toBe(
      'invalid IPv4 CIDR "10.0.0.0/8; } protocol static evil {"' +
        " (from key /calico/v1/ipam/v4/pool/10.0.0.0-8)",
    );
    expect(err.context).toEqual({ key: "/calico/v1/ipam/v4/pool/10.0.0.0-8" });
  });

  it("shows at most 80 characters of the value", () => {
    const long = `${"1".repeat(100)};`;
    expect(failure(() => format("asASN", long)).message).toBe(`invalid AS number "${"1".repeat(80)}"...`);
    const emoji = "😀".repeat(100);
    const shownEmoji = "😀".repeat(80);
    expect(failure(() => format("ipv4", emoji)).message).toBe(`invalid IPv4 address "${shownEmoji}"...`);
    const doc = { note: "x".repeat(100) };
    const shown = JSON.stringify(doc).slice(0, 80);
    expect(failure(() => format("asIP", doc)).message).toBe(`invalid IP address ${shown}...`);
  });
});

/** Attempts to smuggle BIRD syntax, whitespace or lookalike characters past a strict formatter. */
const INJECTIONS = [
  "10.0.0.0/8; } protocol static evil {",
  "10.0.0.0/8;",
  "1; import all",
  "64512; import all; export all",
  '"; include "/etc/shadow',
  "include \"/etc/shadow\";",
  "} filter evil { accept; }",
  "10.0.0.1\nprotocol static evil { }",
  "10.0.0.1\n",
  "\n10.0.0.1",
  "64512\n",
  "64512\r\n",
  "10.0.0.1\r",
  "10.0.0.1\u0000",
  "10.0.0.0/8\u2028",
  "65000:1\u0085",
  " 10.0.0.1",
  "10.0.0.1 ",
  "\t179",
  "64512 # comment",
  "64512/* c */",
  "::1%0; }",
  "fe80::1%eth0",
  "１０.0.0.1",
  "10.0.0.０",
  "10.0.0.0/２４",
  "６４５１２",
  "٦٤٥١٢",
  "𝟔𝟒𝟓𝟏𝟐",
  "1O.0.0.1",
  "64512\u200b",
  "65000:１",
  "10.0.0.0/8,10.0.0.0/9",
  "65000:1 65000:2",
  "{}",
  "",
];

/** What birdString must refuse: anything that ends the string early or starts a new line. */
const STRING_INJECTIONS = [
  '"; include "/etc/shadow',
  'x"; } protocol static evil { "',
  "x\nprotocol static evil { }",
  "x\r\n}",
  "x\\",
  '\\"',
  "\u0000",
  "\u001b[31m",
  "\u007f",
  "\u009b",
];

describe("injection attempts", () => {
  describe.each(STRICT)("%s", (name) => {
    it.each(INJECTIONS.map((v) => [v]))("rejects %j", (value) => {
      expect(() => format(name, value)).toThrow(PerchError);
    });
  });

  describe("asBirdString", () => {
    it.each(STRING_INJECTIONS.map((v) => [v]))("rejects %j", (value) => {
      expect(() => format("asBirdString", value)).toThrow(PerchError);
    });
  });
});

describe("properties", () => {
  const octet = fc.integer({ min: 0, max: 255 });
  /** Any string, with one of the characters that end a BIRD statement, block or string in it. */
  const withSyntax = (chars: string[]): fc.Arbitrary<string> =>
    fc
      .tuple(fc.string({ unit: "binary" }), fc.constantFrom(...chars), fc.string({ unit: "binary" }))
      .map(([before, char, after]) => before + char + after);

  it("ipv4 returns every dotted quad unchanged", () => {
    fc.assert(
      fc.property(octet, octet, octet, octet, (a, b, c, d) => {
        const address = `${a}.${b}.${c}.${d}`;
        expect(format("ipv4", address)).toBe(address);
        expect(format("asIP", address)).toBe(address);
      }),
    );
  });

  it("cidrv4 returns every dotted quad with a prefix length of 0..32 unchanged", () => {
    fc.assert(
      fc.property(octet, octet, octet, octet, fc.integer({ min: 0, max: 32 }), (a, b, c, d, length) => {
        const cidr = `${a}.${b}.${c}.${d}/${length}`;
        expect(format("cidrv4", cidr)).toBe(cidr);
      }),
    );
  });

  it("every formatter rejects a string with ; { } \" or a newline (birdString: \" or a newline)", () => {
    fc.assert(
      fc.property(withSyntax([";", "{", "}", '"', "\n"]), (value) => {
        for (const name of STRICT) expect(() => format(name, value), name).toThrow(PerchError);
      }),
    );
    fc.assert(
      fc.property(withSyntax(['"', "\n", "\\"]), (value) => {
        expect(() => format("asBirdString", value)).toThrow(PerchError);
      }),
    );
  });

  /** Whether the formatter returns `value` (it throws otherwise). */
  const accepts = (name: string, value: string): boolean => {
    try {
      return format(name, value) === value;
    } catch (err) {
      expect(err).toBeInstanceOf(PerchError);
      return false;
    }
  };

  it("ipv6 accepts exactly what node:net's isIPv6 accepts, zone ids aside", () => {
    const groups = ["0", "1", "ab", "fff", "FFFF", "12345", "g"];
    const part = fc.constantFrom(...groups, ":", "::", ":::", ".", "1.2.3.4", "%eth0");
    fc.assert(
      fc.property(fc.array(part, { maxLength: 16 }), (parts) => {
        const text = parts.join("");
        expect(accepts("ipv6", text), text).toBe(!text.includes("%") && isIPv6(text));
      }),
      { numRuns: 5000 },
    );
  });

  it("asn, port and community bounds are exact however long the number", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^(?:0|[1-9][0-9]{0,24})$/), (text) => {
        const n = BigInt(text);
        expect(accepts("asASN", text), text).toBe(n <= 4294967295n);
        expect(accepts("asPort", text), text).toBe(n >= 1n && n <= 65535n);
        expect(accepts("asCommunity", `${text}:1`), text).toBe(n <= 65535n);
        expect(accepts("asCommunity", `1:${text}:1`), text).toBe(n <= 4294967295n);
      }),
    );
  });

  it("a formatter either throws or returns its input, never anything else", () => {
    fc.assert(
      fc.property(fc.constantFrom(...FORMATTERS), fc.string({ unit: "binary" }), (name, value) => {
        let out: unknown;
        try {
          out = format(name, value);
        } catch (err) {
          expect(err).toBeInstanceOf(PerchError);
          return;
        }
        expect(out).toBe(value);
      }),
    );
  });
});
