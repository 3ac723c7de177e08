// conf.d parsing: confd's fields load unchanged; every mistake is an error with file and line.
import { describe, expect, it } from "vitest";
import { FIELDS, parseResource } from "../../src/resource/parse-resource.js";

const FILE = "/etc/perch/conf.d/bird.toml";

function errorsOf(text: string): string[] {
  return parseResource(FILE, "bird", text).errors.map((e) => e.toString());
}

describe("parseResource", () => {
  it("loads every confd field", () => {
    const { resource, errors } = parseResource(
      FILE,
      "bird",
      `[template]
src = "bird.cfg.hbs"
dest = "/etc/bird.cfg"
prefix = "/calico/bgp/v1"
keys = ["/host", "/global"]
mode = "0640"
uid = 0
gid = 0
check_cmd = "bird -p -c {{.src}}"
reload_cmd = "birdcl configure"
wait = "100ms:2s"
check_timeout = "5s"
reload_timeout = "1m"
`,
    );
    expect(errors).toEqual([]);
    expect(resource).toMatchObject({
      name: "bird",
      src: "bird.cfg.hbs",
      dest: "/etc/bird.cfg",
      prefix: "/calico/bgp/v1",
      keys: ["/host", "/global"],
      mode: 0o640,
      uid: 0,
      gid: 0,
      checkCmd: "bird -p -c {{.src}}",
      reloadCmd: "birdcl configure",
      wait: { minMs: 100, maxMs: 2000 },
      checkTimeoutMs: 5000,
      reloadTimeoutMs: 60000,
    });
  });

  it("resolves owner and group names", () => {
    const { resource } = parseResource(FILE, "bird", '[template]\nsrc="a"\ndest="/b"\nkeys=["/"]\nowner="root"\ngroup="root"\n');
    expect(resource).toMatchObject({ uid: 0, gid: 0 });
  });

  it("rejects a misspelt field with its line and a hint", () => {
    expect(errorsOf('[template]\nsrc = "a"\ndest = "/b"\nkeys = ["/"]\nreload_comd = "x"\n')).toEqual([
      `${FILE}:5: unknown field "reload_comd" in [template] (did you mean "reload_cmd"?)`,
    ]);
  });

  it("rejects a NUL byte in check_cmd or reload_cmd with its line", () => {
    expect(errorsOf('[template]\nsrc = "a"\ndest = "/b"\nkeys = ["/"]\ncheck_cmd = "bird -p\\u0000 -c x"\nreload_cmd = "\\u0000"\n')).toEqual([
      `${FILE}:5: field "check_cmd" contains a NUL byte (\\u0000), which a command cannot hold`,
      `${FILE}:6: field "reload_cmd" contains a NUL byte (\\u0000), which a command cannot hold`,
    ]);
  });

  it("rejects an unknown table", () => {
    expect(errorsOf('[templat]\nsrc = "a"\n')).toEqual([
      `${FILE}:1: unknown table [templat] (a resource file has one [template] table)`,
      `${FILE}: missing [template] table`,
    ]);
  });

  it("reports every missing required field", () => {
    expect(errorsOf('[template]\nprefix = "/x"\n')).toEqual([
      `${FILE}:1: missing required field "src" in [template]`,
      `${FILE}:1: missing required field "dest" in [template]`,
      `${FILE}:1: missing required field "keys" in [template]`,
    ]);
  });

  it("rejects wrong types with the field's line", () => {
    expect(errorsOf('[template]\nsrc = "a"\ndest = "/b"\nkeys = "/not-a-list"\nuid = "0"\n')).toEqual([
      `${FILE}:4: field "keys" must be a list of strings, got the string "/not-a-list"`,
      `${FILE}:5: field "uid" must be an integer, got the string "0"`,
    ]);
  });

  it("rejects a mode that is not an octal string", () => {
    expect(errorsOf('[template]\nsrc="a"\ndest="/b"\nkeys=["/"]\nmode="rw-r--r--"\n')).toEqual([
      `${FILE}:5: field "mode" must be an octal string like "0644", got "rw-r--r--"`,
    ]);
    expect(errorsOf('[template]\nsrc="a"\ndest="/b"\nkeys=["/"]\nmode=644\n')).toEqual([`${FILE}:5: field "mode" must be a string, got the integer 644`]);
  });

  it("rejects bad durations and wait windows", () => {
    expect(errorsOf('[template]\nsrc="a"\ndest="/b"\nkeys=["/"]\nwait="2s:1s"\ncheck_timeout="soon"\n')).toEqual([
      `${FILE}:5: wait: MAX 1s is shorter than MIN 2s`,
      `${FILE}:6: field "check_timeout" must be a duration like "10s", got "soon"`,
    ]);
  });

  it("rejects an unknown owner", () => {
    expect(errorsOf('[template]\nsrc="a"\ndest="/b"\nkeys=["/"]\nowner="no-such-user-perch"\n')).toEqual([
      `${FILE}:5: field "owner": no such user "no-such-user-perch"`,
    ]);
  });

  it("reports a TOML syntax error with line and column", () => {
    const [err] = parseResource(FILE, "bird", '[template]\nsrc = "a"\ndest = = "/b"\n').errors;
    expect(err?.context.line).toBe(3);
    expect(err?.toString()).toMatch(new RegExp(`^${FILE}:3:\\d+: TOML syntax error: `));
  });

  it("documents every field it accepts", () => {
    expect(Object.keys(FIELDS).sort()).toEqual(
      ["check_cmd", "check_covers", "check_timeout", "dest", "gid", "group", "keys", "mode", "owner", "prefix", "reload_cmd", "reload_timeout", "src", "uid", "wait"],
    );
  });
});
