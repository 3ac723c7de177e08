import { describe, expect, it } from "vitest";
import { convertTemplate } from "../../src/convert/convert-template.js";
import { thrownPerchError } from "../helpers/thrown.js";

function failure(source: string): string {
  return thrownPerchError(() => convertTemplate(source, "bird.cfg.tmpl")).toString();
}

describe("perch convert stops at what it cannot translate faithfully, with file:line and why", () => {
  it.each([
    ['{{range $k, $v := json (getv "/x")}}{{$k}}{{end}}', "bird.cfg.tmpl:1: range over a JSON object: Go visits its keys in sorted order, Handlebars' each in the document's order"],
    ['a\n{{lookupIP "h"}}', "bird.cfg.tmpl:2: lookupIP: lookupIP resolves DNS names at render time; perch renders from the store only"],
    ['{{datetime}}', "bird.cfg.tmpl:1: datetime: datetime is the time of the render; perch's output depends on the store only"],
    ['{{$x := 1}}\n{{range ls "/x"}}\n{{$x = 2}}{{end}}{{$x}}', "bird.cfg.tmpl:3: $x = … inside a range or with assigns a variable declared outside it; Handlebars has no assignment that outlives a block"],
    ['{{$x := 1}}{{with getv "/k"}}{{if .}}{{$x = 2}}{{end}}{{end}}', "bird.cfg.tmpl:1: $x = … inside a range or with assigns a variable declared outside it; Handlebars has no assignment that outlives a block"],
    ["{{$x = 2}}", 'bird.cfg.tmpl:1: undefined variable "$x"'],
    [`{{$x := 0}}${"{{if true}}{{$x = 1}}{{end}}\n".repeat(7)}`, "bird.cfg.tmpl:7: more than 6 ifs on one path assign variables: each copies what follows it into its branches, doubling the converted template each time; assign in fewer ifs"],
    ['{{$x := 1}}{{$y := 1}}{{if true}}{{$y := 2}}\n{{$x = 2}}{{end}}{{$y}}', "bird.cfg.tmpl:1: $y := … inside an if that assigns a variable: declare it under another name"],
    ["{{.}}", 'bird.cfg.tmpl:1: "." is nil here: confd runs templates with no data ("." has a value inside range and with)'],
    ["{{.Key}}", 'bird.cfg.tmpl:1: "." is nil here: confd runs templates with no data ("." has a value inside range and with)'],
    ["{{$}}", "bird.cfg.tmpl:1: $ is nil in confd (it runs templates with no data)"],
    ["{{$nope}}", 'bird.cfg.tmpl:1: undefined variable "$nope"'],
    ['{{printf "%d" (getv "/port")}}', "bird.cfg.tmpl:1: printf: %d of a string: Go prints %!d(string=…)"],
    ['{{printf "%s" (add 1 2)}}', "bird.cfg.tmpl:1: printf: %s of a number: Go prints %!s(int=…)"],
    ['{{printf "%s-%s" "a"}}', "bird.cfg.tmpl:1: printf: the format has 2 verbs for 1 arguments (Go prints %!v(MISSING) or %!(EXTRA …))"],
    ['{{printf "%5z" 1}}', 'bird.cfg.tmpl:1: printf: unsupported verb "%5z" (supported: %s %v %d %q %x %X %f %F %e %E %g %G %t %%)'],
    ['{{with $p := json (getv "/p")}}\n{{printf "%d" $p.port}}{{end}}', "bird.cfg.tmpl:2: printf: %d of a value from a JSON document: Go prints %!d(float64=…) for a JSON number and %!d(string=…) for a string; use %v or %.0f"],
    ['{{range gets "/x/*"}}{{break}}{{end}}', "bird.cfg.tmpl:1: {{break}} has no Handlebars form: restructure the loop with an if"],
    ['{{template "nope"}}', 'bird.cfg.tmpl:1: no such template "nope"'],
    ['{{define "p"}}{{.}}{{end}}\n{{template "p"}}', 'bird.cfg.tmpl:2: {{template "p"}} passes no data, but the template reads "."; pass it: {{template "p" .}}'],
    ['{{gets "/x/*"}}', "bird.cfg.tmpl:1: printing a list of key/value pairs gives Go's own notation ([a b]), which perch does not reproduce"],
    ['{{ls "/x"}}', 'bird.cfg.tmpl:1: printing a list of strings gives Go\'s own notation ([a b]), which perch does not reproduce: write {{join … " "}} for the items'],
    ['{{get "/k"}}', "bird.cfg.tmpl:1: printing a key/value pair gives Go's own notation ({key value}), which perch does not reproduce"],
    ['{{(get "/k").Nope}}', "bird.cfg.tmpl:1: a key/value pair has only .Key and .Value, not .Nope"],
    ['{{(getv "/k").x}}', "bird.cfg.tmpl:1: a string has no field .x"],
    ["{{nosuch 1}}", 'bird.cfg.tmpl:1: function "nosuch" not defined (neither confd nor Go has it)'],
    ["{{getv}}", "bird.cfg.tmpl:1: getv takes 1 to 2 arguments, got 0"],
    ['{{"a" "b"}}', 'bird.cfg.tmpl:1: can\'t give an argument to a non-function "a"'],
    ['{{print 1 2}}', "bird.cfg.tmpl:1: print of values that may not be strings: Go puts spaces between some of them; use printf"],
    ['{{range getv "/k"}}{{end}}', "bird.cfg.tmpl:1: range over a string: Go cannot range over it"],
    ['{{if true}}x{{else if $y := 1}}y{{end}}', "bird.cfg.tmpl:1: a variable declared in {{else if}} has no Handlebars form: declare it before the if"],
    ['{{"ends in \\\\"}}', 'bird.cfg.tmpl:1: the string "ends in \\\\" has no Handlebars literal (it ends with a backslash)'],
    ["{{printf \"%v\" 1e30}}", "bird.cfg.tmpl:1: the number 1e30 has no Handlebars literal"],
  ])("%s", (source, message) => {
    expect(failure(source)).toBe(message);
  });
});

describe("Go template syntax errors are reported at their line", () => {
  it.each([
    ["a\n{{if true}}\nb", "bird.cfg.tmpl:2: unexpected EOF: {{if}} has no {{end}}"],
    ["{{end}}", "bird.cfg.tmpl:1: unexpected {{end}}"],
    ["a\nb {{getv", "bird.cfg.tmpl:2: unclosed action"],
    ["{{/* never closed", "bird.cfg.tmpl:1: unclosed comment"],
    ['{{getv "/x}}', "bird.cfg.tmpl:1: unterminated quoted string"],
    ['{{range $i, $v := ls "/x"}}{{else if true}}{{end}}', "bird.cfg.tmpl:1: {{else if}} inside {{range}}"],
    ['{{if true}}{{define "x"}}{{end}}{{end}}', "bird.cfg.tmpl:1: {{define}} is only allowed at the top level"],
    ['{{define "x"}}{{end}}{{define "x"}}{{end}}', 'bird.cfg.tmpl:1: template "x" is defined twice'],
    ["{{getv (ls}}", "bird.cfg.tmpl:1: unclosed left paren"],
    ["{{#if x}}", 'bird.cfg.tmpl:1: unrecognized character in action: "#"'],
  ])("%s", (source, message) => {
    expect(failure(source)).toBe(message);
  });
});

describe("where only the data can tell, perch convert warns with every line", () => {
  it("groups the JSON values a template prints into one warning", () => {
    const { warnings } = convertTemplate('{{$d := json (getv "/x")}}{{$d.a}}\n{{$d.b}}\n{{$d.c}}', "bird.cfg.tmpl");
    expect(warnings.map((w) => w.toString())).toEqual([
      "bird.cfg.tmpl:1: prints a value from a JSON document: Go prints <no value> where it is missing or null (perch prints nothing) and a number of 1e6 or more in exponent form (1e+06) (also lines 2, 3)",
    ]);
  });

  it("warns of a range over a JSON value that may be an object", () => {
    const { warnings } = convertTemplate('{{with json (getv "/x")}}{{range .list}}{{end}}{{end}}', "bird.cfg.tmpl");
    expect(warnings.map((w) => w.toString())).toEqual([
      "bird.cfg.tmpl:1: ranges over a value from a JSON document: if it is an object, Go visits its keys in sorted order, Handlebars' each in the document's order",
    ]);
  });

  it("warns of index into a list, which Go fails on out of range", () => {
    const { warnings } = convertTemplate('{{index (split (getv "/x") ":") 1}} {{index (json (getv "/y")) "k"}}', "bird.cfg.tmpl");
    expect(warnings.map((w) => w.toString())).toEqual([
      "bird.cfg.tmpl:1: index of a list: Go fails the render on an index out of range, perch gives nothing",
      "bird.cfg.tmpl:1: prints a value from a JSON document: Go prints <no value> where it is missing or null (perch prints nothing) and a number of 1e6 or more in exponent form (1e+06)",
    ]);
  });

  it("has nothing to say of store values", () => {
    expect(convertTemplate('{{range gets "/x/*"}}{{.Key}}={{.Value}}{{end}} {{getv "/y" "d"}}', "t.tmpl")).toEqual({
      handlebars: '{{#each (gets "/x/*")}}{{key}}={{value}}{{/each}} {{getv "/y" "d"}}',
      warnings: [],
    });
  });
});
