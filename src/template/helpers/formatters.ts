/**
 * Validating formatters: every value that lands in BIRD syntax passes one, so a value from etcd cannot
 * inject BIRD statements. Each returns its argument unchanged or throws, naming the value and its key.
 */
import { isIPv4, isIPv6 } from "node:net";
import { PerchError } from "../../errors.js";
import { describeValue } from "../../util/describe-value.js";
import type { HelperSpec, HelperTable, RenderScope } from "../helper-spec.js";

/**
 * `<message> <value>[ (from key K)][: <detail>]`, with the key in the context when the value was
 * read from the store (the registry adds template, line and column).
 */
export function valueError(message: string, value: unknown, scope: RenderScope, detail?: string): PerchError {
  const key = typeof value === "string" ? scope.provenance.keyOf(value) : undefined;
  // A key holding a newline or another control character is quoted, so the message stays one line.
  const from = key === undefined ? "" : ` (from key ${hasControlCharacter(key) ? JSON.stringify(key) : key})`;
  const suffix = detail === undefined ? "" : `: ${detail}`;
  // No `key: undefined`: the registry merges contexts and would overwrite a key it already knows.
  const context = key === undefined ? {} : { key };
  return new PerchError(`${message} ${describeValue(value)}${from}${suffix}`, context);
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Canonical decimal: ASCII digits only, no sign, no leading zeros (so no octal or lookalike doubts). */
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

/**
 * Bounds are safe integers, so Number's rounding cannot move a value across one: anything that
 * rounds is above 2^53, and so above every bound.
 */
function decimalIn(text: string, min: number, max: number): boolean {
  if (!DECIMAL.test(text)) return false;
  const n = Number(text);
  return n >= min && n <= max;
}

const UINT32_MAX = 4294967295;
const UINT16_MAX = 65535;

/** node:net accepts zone ids (`fe80::1%eth0`), which are not addresses BIRD can take. */
function ipv6(text: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return false;
  // node:net's regular expression tries each of its forms in turn on every call: it gets only the
  // forms with an embedded IPv4 address.
  return text.includes(".") ? isIPv6(text) : hexGroups(text);
}

const COLON = 0x3a;

/**
 * isIPv6 for hex digits and colons: eight groups of one to four digits, or at most seven with a
 * single "::" standing for the rest.
 */
function hexGroups(text: string): boolean {
  const gap = text.indexOf("::");
  if (gap === -1) return groupsIn(text, 0, text.length) === 8;
  // A second "::" (which includes ":::") is never valid.
  if (text.indexOf("::", gap + 1) !== -1) return false;
  const before = gap === 0 ? 0 : groupsIn(text, 0, gap);
  const after = gap + 2 === text.length ? 0 : groupsIn(text, gap + 2, text.length);
  return before >= 0 && after >= 0 && before + after <= 7;
}

/** How many colon-separated groups text[start, end) holds; -1 if one is empty or too long. */
function groupsIn(text: string, start: number, end: number): number {
  let groups = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    if (text.charCodeAt(i) !== COLON) {
      if (++digits > 4) return -1;
    } else if (digits === 0) {
      return -1;
    } else {
      groups++;
      digits = 0;
    }
  }
  return digits === 0 ? -1 : groups + 1;
}

function ip(text: string): boolean {
  return isIPv4(text) || ipv6(text);
}

function cidrOf(address: (text: string) => boolean, maxLength: number): (text: string) => boolean {
  return (text) => {
    const parts = text.split("/");
    if (parts.length !== 2) return false;
    return address(parts[0] as string) && decimalIn(parts[1] as string, 0, maxLength);
  };
}

const cidrv4 = cidrOf(isIPv4, 32);
const cidrv6 = cidrOf(ipv6, 128);

/** Standard communities are two 16-bit halves; large communities three 32-bit parts. */
const COMMUNITY_PART_MAX: Readonly<Record<number, number>> = { 2: UINT16_MAX, 3: UINT32_MAX };

function community(text: string): boolean {
  const parts = text.split(":");
  const max = COMMUNITY_PART_MAX[parts.length];
  return max !== undefined && parts.every((part) => decimalIn(part, 0, max));
}

/** Which inputs a formatter takes: strings, or also numbers where JSON may carry the value as one. */
type Inputs = "string" | "string or number";

function textOf(value: unknown, inputs: Inputs): string | undefined {
  if (typeof value === "string") return value;
  // Numbers are checked in their decimal form like any string, so -1, 1.5 and 1e21 all fail.
  return inputs === "string or number" && typeof value === "number" ? String(value) : undefined;
}

function formatter(
  label: string,
  doc: string,
  valid: (text: string) => boolean,
  inputs: Inputs = "string",
): HelperSpec {
  return {
    arity: [1, 1],
    doc,
    // Indexed, not destructured: destructuring runs the array iterator on every call.
    fn: (args, scope) => {
      const value = args[0];
      const text = textOf(value, inputs);
      if (text === undefined || !valid(text)) throw valueError(`invalid ${label}`, value, scope);
      return text;
    },
  };
}

export const formatterHelpers: HelperTable = {
  ipv4: formatter("IPv4 address", "ipv4 v: v if it is a dotted-quad IPv4 address", isIPv4),
  ipv6: formatter("IPv6 address", "ipv6 v: v if it is an IPv6 address (no zone id)", ipv6),
  asIP: formatter("IP address", "asIP v: v if it is an IPv4 or IPv6 address", ip),
  cidrv4: formatter("IPv4 CIDR", "cidrv4 v: v if it is an IPv4 address/0..32", cidrv4),
  cidrv6: formatter("IPv6 CIDR", "cidrv6 v: v if it is an IPv6 address/0..128", cidrv6),
  asCIDR: formatter("CIDR", "asCIDR v: v if it is an IPv4 or IPv6 CIDR", (t) => cidrv4(t) || cidrv6(t)),
  asASN: formatter(
    "AS number",
    "asASN v: v if it is a decimal AS number 0..4294967295",
    (t) => decimalIn(t, 0, UINT32_MAX),
    "string or number",
  ),
  asPort: formatter(
    "port",
    "asPort v: v if it is a decimal port 1..65535",
    (t) => decimalIn(t, 1, UINT16_MAX),
    "string or number",
  ),
  asUint: formatter(
    "unsigned integer",
    "asUint v: v if it is a non-negative decimal integer",
    (t) => DECIMAL.test(t),
    "string or number",
  ),
  asBirdIdent: formatter(
    "BIRD identifier",
    "asBirdIdent v: v if it is a BIRD symbol name ([A-Za-z_][A-Za-z0-9_]*)",
    (t) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(t),
  ),
  asBirdString: formatter(
    "BIRD string",
    'asBirdString v: v, unquoted, if it has no ", backslash or control character (safe inside "...")',
    (t) => !/["\\\p{Cc}]/u.test(t),
  ),
  asCommunity: formatter(
    "BGP community",
    "asCommunity v: v if it is a:b (16-bit parts) or a:b:c (32-bit parts)",
    community,
  ),
};

/**
 * The formatters' names before the `as…` family: they equalled data fields (a pool's `cidr`, a peer's `ip` and
 * `port`), so `{{cidr}}` called the helper where the field was meant. They still work, for one release.
 */
export const deprecatedFormatterNames: Readonly<Record<string, string>> = {
  ip: "asIP",
  cidr: "asCIDR",
  port: "asPort",
  asn: "asASN",
  uint: "asUint",
  community: "asCommunity",
  birdIdent: "asBirdIdent",
  birdString: "asBirdString",
};

export const deprecatedFormatterHelpers: HelperTable = Object.fromEntries(
  Object.entries(deprecatedFormatterNames).map(([old, current]) => {
    const spec = formatterHelpers[current] as HelperSpec;
    return [old, { ...spec, doc: `${old} v: deprecated name of ${current} (it goes in the next release)` }];
  }),
);
