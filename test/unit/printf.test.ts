import { describe, expect, it } from "vitest";
import { KeyIndex } from "../../src/mirror/key-index.js";
import { parsePrintfFormat, printfHelper } from "../../src/template/helpers/printf.js";
import { Provenance } from "../../src/template/provenance.js";
import { thrownPerchError } from "../helpers/thrown.js";

function printf(format: string, ...args: unknown[]): unknown {
  return printfHelper.fn([format, ...args], { view: new KeyIndex(), env: {}, provenance: new Provenance([]) });
}

// Every expectation is what Go 1.19's fmt.Sprintf prints for the same format and (Go-typed) values.
const GO_OUTPUTS: Array<[string, unknown[], string]> = [
  ["[%02d] [%+d] [% d] [%-4d|] [%04d] [%.3d] [%6.3d]", [5, 5, 5, 5, -5, 5, -5], "[05] [+5] [ 5] [5   |] [-005] [005] [  -005]"],
  ["[%x] [%#x] [%X] [%#X] [%.0d]", [-255, 255, 255, 255, 0], "[-ff] [0xff] [FF] [0XFF] []"],
  ["[%-05d] [%+05d] [% 05d]", [3, 3, 3], "[3    ] [+0003] [ 0003]"],
  ["[%05s] [%-5s|] [%.2s] [%5q] [%5.1s]", ["ab", "ab", "héllo", "a", "abc"], "[000ab] [ab   |] [hé] [  \"a\"] [    a]"],
  ["[%x] [% x] [%#x] [%X] [% X] [%.1x] [%# x]", ["hi", "hi", "hi", "hi", "hi", "hello", "hi"], "[6869] [68 69] [0x6869] [6869] [68 69] [68] [0x68 0x69]"],
  ["[%.2f] [%.2f] [%.0f] [%.0f] [%5.1f] [%-8.3f|] [%08.3f]", [0.125, 0.375, 0.5, 1.5, 3.14159, 2.5, -2.5], "[0.12] [0.38] [0] [2] [  3.1] [2.500   |] [-002.500]"],
  ["[%+.1e] [%e] [%g] [%.3g] [%g] [%f]", [12345.678, 0, 100000, 1, 1e21, 1e21], "[+1.2e+04] [0.000000e+00] [100000] [1] [1e+21] [1000000000000000000000.000000]"],
  ["[%g] [%g] [%G] [%E] [%.2e] [%e]", [1e-5, 123456789, 1e-7, 12.5, 0.125, 1e100], "[1e-05] [1.23456789e+08] [1E-07] [1.250000E+01] [1.25e-01] [1.000000e+100]"],
  ["[%6.2v] [%10v] [%-10v|] [%t] [%5t]", [3.14159, "x", 1.5, true, false], "[   3.1] [         x] [1.5       |] [true] [false]"],
  ["[%+.2f] [% .2f] [%08.2e] [%.1f] [%.3f]", [1, 1, -1.5, 0.05, 2.0005], "[+1.00] [ 1.00] [-1.50e+00] [0.1] [2.001]"],
  ["[%v] [%v] [%v]", [["a", 1.5], { b: 1, a: "x" }, null], "[[a 1.5]] [map[a:x b:1]] [<nil>]"],
  ["[%#q] [%#q] [%+q]", ["a`b", "ab", "é"], '["a`b"] [`ab`] ["\\u00e9"]'],
  ["[%v] [%v] [%v]", [0.0001, 0.00001, 1.5e300], "[0.0001] [1e-05] [1.5e+300]"],
];

describe("printf with Go's flags, widths and precisions", () => {
  it.each(GO_OUTPUTS)("%s prints what Go prints", (format, args, expected) => {
    expect(printf(format, ...args)).toBe(expected);
  });

  it("prints a whole number as Go prints an int, whatever its size", () => {
    expect(printf("%v %d %s", 4200000000, 4200000000, 1000000)).toBe("4200000000 4200000000 1000000");
  });

  it("throws where Go prints an error marker, with the value", () => {
    expect(thrownPerchError(() => printf("%f", "1.5")).message).toBe('printf: expected a number, got "1.5"');
    expect(thrownPerchError(() => printf("%d", 1.5)).message).toBe("printf: expected an integer, got 1.5");
    expect(thrownPerchError(() => printf("%t", "true")).message).toBe('printf: expected a boolean, got "true"');
    expect(thrownPerchError(() => printf("%q", 65)).message).toBe("printf: expected a string, got 65");
    expect(thrownPerchError(() => printf("%v", undefined)).message).toBe("printf: expected a value, got undefined");
  });
});

describe("parsePrintfFormat", () => {
  it("cuts a format at its directives, with flags, width, precision and offset", () => {
    const parsed = parsePrintfFormat("a%-5.2fb%%c%x");
    expect(parsed).toEqual({
      ok: true,
      format: {
        literals: ["a", "b%c", ""],
        directives: [
          { flags: { minus: true, plus: false, sharp: false, zero: false, space: false }, width: 5, precision: 2, verb: "f", offset: 1 },
          { flags: { minus: false, plus: false, sharp: false, zero: false, space: false }, width: undefined, precision: undefined, verb: "x", offset: 11 },
        ],
      },
    });
  });

  it.each([
    ["ab%", 2, 'printf: unsupported verb "%" (supported: %s %v %d %q %x %X %f %F %e %E %g %G %t %%)'],
    ["%5z", 0, 'printf: unsupported verb "%5z" (supported: %s %v %d %q %x %X %f %F %e %E %g %G %t %%)'],
    ["x%*d", 1, 'printf: "%*…": widths and argument indexes from arguments are not supported'],
    ["%[2]d", 0, 'printf: "%[…": widths and argument indexes from arguments are not supported'],
    ["%#d", 0, 'printf: flag "#" is not supported with %d in "%#d"'],
    ["%+s", 0, 'printf: flag "+" is not supported with %s in "%+s"'],
  ])("rejects %j at offset %i", (format, offset, message) => {
    expect(parsePrintfFormat(format)).toEqual({ ok: false, error: { message, offset } });
  });
});
