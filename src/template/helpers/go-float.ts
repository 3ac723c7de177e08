/**
 * Go's strconv.FormatFloat for the 'e', 'f' and 'g' formats, on the exact decimal value of a double:
 * rounding ties to even where Go does (0.125 to 0.12), which JavaScript's toFixed does not.
 */

/** An exact decimal: 0.digits × 10^point, without trailing zeros ("" for zero). */
interface Decimal {
  digits: string;
  point: number;
}

/** The exact decimal value of a finite double (every double is m × 2^e, so finitely many digits). */
function exactDecimal(x: number): Decimal {
  if (x === 0) return { digits: "", point: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const exponentBits = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = exponentBits === 0 ? fraction : fraction | (1n << 52n);
  const exponent = (exponentBits === 0 ? 1 : exponentBits) - 1075;
  const digits = exponent >= 0 ? (mantissa << BigInt(exponent)).toString() : (mantissa * 5n ** BigInt(-exponent)).toString();
  const point = digits.length + Math.min(exponent, 0);
  return trimZeros({ digits, point });
}

function trimZeros(d: Decimal): Decimal {
  const digits = d.digits.replace(/0+$/, "");
  return digits === "" ? { digits: "", point: 0 } : { digits, point: d.point };
}

/** Round to `n` digits, ties to even on the exact value (strconv's decimal rounding). */
function roundDigits(d: Decimal, n: number): Decimal {
  if (n < 0 || d.digits.length <= n) return n < 0 ? { digits: "", point: 0 } : d;
  const next = d.digits[n] as string;
  const exactHalf = next === "5" && n + 1 === d.digits.length;
  const up = exactHalf ? n > 0 && Number(d.digits[n - 1]) % 2 === 1 : next >= "5";
  if (!up) return trimZeros({ digits: d.digits.slice(0, n), point: d.point });
  let i = n - 1;
  while (i >= 0 && d.digits[i] === "9") i--;
  if (i < 0) return { digits: "1", point: d.point + 1 };
  return { digits: d.digits.slice(0, i) + String(Number(d.digits[i]) + 1), point: d.point };
}

/** The shortest digits that read back as x (JavaScript and Go agree on them). */
function shortestDecimal(x: number): Decimal {
  if (x === 0) return { digits: "", point: 0 };
  const [mantissa = "", exponent = "0"] = Math.abs(x).toExponential().split("e");
  return trimZeros({ digits: mantissa.replace(".", ""), point: Number(exponent) + 1 });
}

function digitAt(d: Decimal, i: number): string {
  return i >= 0 && i < d.digits.length ? (d.digits[i] as string) : "0";
}

/** %e with `precision` digits after the point; Go writes at least two exponent digits. */
function fixedE(d: Decimal, precision: number, upper: boolean): string {
  let out = digitAt(d, 0);
  if (precision > 0) {
    out += ".";
    for (let i = 1; i <= precision; i++) out += digitAt(d, i);
  }
  const exponent = d.digits === "" ? 0 : d.point - 1;
  const sign = exponent < 0 ? "-" : "+";
  return `${out}${upper ? "E" : "e"}${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
}

/** %f with `precision` digits after the point. */
function fixedF(d: Decimal, precision: number): string {
  let out = "";
  if (d.point > 0) for (let i = 0; i < d.point; i++) out += digitAt(d, i);
  else out = "0";
  if (precision > 0) {
    out += ".";
    for (let i = 0; i < precision; i++) out += digitAt(d, d.point + i);
  }
  return out;
}

/** strconv.FormatFloat for 'e', 'f', 'g' (precision undefined: the shortest that reads back). */
export function formatDigits(x: number, verb: string, precision: number | undefined): string {
  const upper = verb === "E" || verb === "G";
  const kind = verb.toLowerCase();
  if (kind === "e") {
    const p = precision ?? 6;
    return fixedE(roundDigits(exactDecimal(x), p + 1), p, upper);
  }
  if (kind === "f") {
    const p = precision ?? 6;
    const exact = exactDecimal(x);
    return fixedF(roundDigits(exact, exact.point + p), p);
  }
  const shortest = precision === undefined;
  const p = precision === 0 ? 1 : precision;
  const d = p === undefined ? shortestDecimal(x) : roundDigits(exactDecimal(x), p);
  const digits = Math.max(d.digits.length, 1);
  let limit = p ?? digits;
  let eprec = limit;
  if (eprec > digits && digits >= d.point) eprec = digits;
  if (shortest) eprec = 6;
  const exponent = d.digits === "" ? 0 : d.point - 1;
  if (exponent < -4 || exponent >= eprec) return fixedE(d, Math.min(limit, digits) - 1, upper);
  if (limit > d.point) limit = digits;
  return fixedF(d, Math.max(limit - d.point, 0));
}
