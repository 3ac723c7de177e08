/**
 * Validating formatters: every value that lands in BIRD syntax passes through one of these, so a
 * value from etcd can never inject BIRD statements. Each returns its argument as a string,
 * unchanged, or throws a PerchError that shows the value and, when known, the key it came from.
 */
import { isIPv4, isIPv6 } from "node:net";
import { PerchError } from "../../errors.js";
import type { HelperSpec, HelperTable, RenderScope } from "../helper-spec.js";

/** Enough of a bad value to recognise it, without flooding a log line with a whole document. */
const MAX_SHOWN = 80;

/** The value as it appears in an error: strings JSON-quoted (so newlines stay visible), clipped. */
function describeValue(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  const chars = Array.from(text);
  const clipped = chars.length > MAX_SHOWN ? chars.slice(0, MAX_SHOWN).join("") : text;
  const shown = typeof value === "string" ? JSON.stringify(clipped) : clipped;
  return clipped === text ? shown : `${shown}...`;
}

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

function decimalIn(text: string, min: bigint, max: bigint): boolean {
  if (!DECIMAL.test(text)) return false;
  const n = BigInt(text);
  return n >= min && n <= max;
}

const UINT32_MAX = 4294967295n;
const UINT16_MAX = 65535n;

/** node:net accepts zone ids (`fe80::1%eth0`), which are not addresses BIRD can take. */
function ipv6(text: string): boolean {
  return /^[0-9A-Fa-f:.]+$/.test(text) && isIPv6(text);
}

function ip(text: string): boolean {
  return isIPv4(text) || ipv6(text);
}

function cidrOf(address: (text: string) => boolean, maxLength: bigint): (text: string) => boolean {
  return (text) => {
    const [addr, length, ...rest] = text.split("/");
    if (addr === undefined || length === undefined || rest.length > 0) return false;
    return address(addr) && decimalIn(length, 0n, maxLength);
  };
}

const cidrv4 = cidrOf(isIPv4, 32n);
const cidrv6 = cidrOf(ipv6, 128n);

/** Standard communities are two 16-bit halves; large communities three 32-bit parts. */
const COMMUNITY_PART_MAX: Readonly<Record<number, bigint>> = { 2: UINT16_MAX, 3: UINT32_MAX };

function community(text: string): boolean {
  const parts = text.split(":");
  const max = COMMUNITY_PART_MAX[parts.length];
  return max !== undefined && parts.every((part) => decimalIn(part, 0n, max));
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
    fn: ([value], scope) => {
      const text = textOf(value, inputs);
      if (text === undefined || !valid(text)) throw valueError(`invalid ${label}`, value, scope);
      return text;
    },
  };
}

export const formatterHelpers: HelperTable = {
  ipv4: formatter("IPv4 address", "ipv4 v: v if it is a dotted-quad IPv4 address", isIPv4),
  ipv6: formatter("IPv6 address", "ipv6 v: v if it is an IPv6 address (no zone id)", ipv6),
  ip: formatter("IP address", "ip v: v if it is an IPv4 or IPv6 address", ip),
  cidrv4: formatter("IPv4 CIDR", "cidrv4 v: v if it is an IPv4 address/0..32", cidrv4),
  cidrv6: formatter("IPv6 CIDR", "cidrv6 v: v if it is an IPv6 address/0..128", cidrv6),
  cidr: formatter("CIDR", "cidr v: v if it is an IPv4 or IPv6 CIDR", (t) => cidrv4(t) || cidrv6(t)),
  asn: formatter(
    "AS number",
    "asn v: v if it is a decimal AS number 0..4294967295",
    (t) => decimalIn(t, 0n, UINT32_MAX),
    "string or number",
  ),
  port: formatter(
    "port",
    "port v: v if it is a decimal port 1..65535",
    (t) => decimalIn(t, 1n, UINT16_MAX),
    "string or number",
  ),
  uint: formatter(
    "unsigned integer",
    "uint v: v if it is a non-negative decimal integer",
    (t) => DECIMAL.test(t),
    "string or number",
  ),
  birdIdent: formatter(
    "BIRD identifier",
    "birdIdent v: v if it is a BIRD symbol name ([A-Za-z_][A-Za-z0-9_]*)",
    (t) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(t),
  ),
  birdString: formatter(
    "BIRD string",
    'birdString v: v, unquoted, if it has no ", backslash or control character (safe inside "...")',
    (t) => !/["\\\p{Cc}]/u.test(t),
  ),
  community: formatter(
    "BGP community",
    "community v: v if it is a:b (16-bit parts) or a:b:c (32-bit parts)",
    community,
  ),
};
