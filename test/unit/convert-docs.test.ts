// docs/templates.md "Coming from confd" shows confd's documented example and what perch convert makes of it.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect, it } from "vitest";
import { convertTemplate } from "../../src/convert/convert-template.js";
import { REPO } from "../helpers/confdir.js";

const DOC = await readFile(path.join(REPO, "docs/templates.md"), "utf8");

it("converts the Go example in 'Coming from confd' into the Handlebars shown after it", () => {
  const section = DOC.slice(DOC.indexOf("## Coming from confd"));
  const go = /```go\n([\s\S]*?)\n```/.exec(section)?.[1];
  const handlebars = /```handlebars\n([\s\S]*?)\n```/.exec(section)?.[1];
  expect(go).toBeDefined();
  const converted = convertTemplate(go as string, "example.tmpl");
  expect(converted.handlebars).toBe(handlebars);
  // $data.IP is a JSON field: Go would print <no value> were it missing.
  expect(converted.warnings.map(String)).toEqual([
    "example.tmpl:4: prints a value from a JSON document: Go prints <no value> where it is missing or null (perch prints nothing) and a number of 1e6 or more in exponent form (1e+06)",
  ]);
});
