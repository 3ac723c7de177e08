// confd's command line and confd.toml, translated into perch's settings: detection, every mapped
// flag, Go's flag syntax, confd's precedence, and every error a confd-style invocation can cause.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PerchErrors } from "../../src/errors.js";
import { isConfdInvocation, translateConfd } from "../../src/cli/confd-compat.js";
import { resolveConfig } from "../../src/cli/settings.js";

let dir: string;
let none: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "perch-confd-"));
  none = path.join(dir, "no-such-confd.toml");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const translate = (argv: string[], env: NodeJS.ProcessEnv = {}) => translateConfd(argv, env, none);

function errorsOf(argv: string[], env: NodeJS.ProcessEnv = {}): string[] {
  try {
    translate(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(PerchErrors);
    return (err as PerchErrors).errors.map(String);
  }
  throw new Error("expected the translation to fail");
}

async function confdToml(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

describe("isConfdInvocation", () => {
  it("recognises a confd flag first, with one dash", () => {
    expect(isConfdInvocation(["-onetime"], "/usr/bin/perch")).toBe(true);
    expect(isConfdInvocation(["-confdir=/etc/confd", "-watch"], "perch")).toBe(true);
    expect(isConfdInvocation(["-version"], "perch")).toBe(true);
    expect(isConfdInvocation(["-srv-domain", "example.com"], "perch")).toBe(true);
  });

  it("leaves perch's own command lines alone", () => {
    expect(isConfdInvocation(["render", "-onetime"], "perch")).toBe(false);
    expect(isConfdInvocation(["--onetime"], "perch")).toBe(false);
    expect(isConfdInvocation(["-h"], "perch")).toBe(false);
    expect(isConfdInvocation(["-v"], "perch")).toBe(false);
    expect(isConfdInvocation(["-node-name", "x"], "perch")).toBe(false);
    expect(isConfdInvocation([], "perch")).toBe(false);
  });

  it("takes any command line as confd's when invoked as confd", () => {
    expect(isConfdInvocation([], "/usr/local/bin/confd")).toBe(true);
    expect(isConfdInvocation(["--watch"], "confd")).toBe(true);
  });
});

describe("translateConfd", () => {
  it("maps every supported flag", () => {
    const t = translate([
      "-onetime", "-confdir", "/srv/confd", "-backend", "etcdv3", "-node", "http://10.0.0.1:2379", "-node=http://10.0.0.2:2379",
      "-prefix", "/prod", "-noop", "-sync-only", "-keep-stage-file", "-log-level", "debug",
      "-client-cert", "c.pem", "-client-key", "k.pem", "-client-ca-keys", "ca.pem", "-username", "u", "-password", "p",
      "-basic-auth", "-scheme", "https",
    ]);
    expect(t.command).toBe("render");
    expect(t.flags).toEqual({
      confdir: "/srv/confd",
      backend: "etcd",
      endpoints: ["http://10.0.0.1:2379", "http://10.0.0.2:2379"],
      prefix: ["/prod"],
      noop: true,
      "sync-only": true,
      "keep-stage-file": true,
      "log-level": "debug",
      "cert-file": "c.pem",
      "key-file": "k.pem",
      "ca-file": "ca.pem",
      username: "u",
      password: "p",
    });
    expect(t.below).toEqual({ confdir: "/etc/confd" });
  });

  it("polls like confd without -onetime or -watch: perch watch with a resync every -interval seconds", () => {
    expect(translate([])).toEqual({ command: "watch", flags: {}, below: { confdir: "/etc/confd", interval: "600s" } });
    expect(translate(["-interval", "30"])).toEqual({ command: "watch", flags: { interval: "30s" }, below: { confdir: "/etc/confd", interval: "600s" } });
    expect(translate(["-watch", "-interval=30"])).toEqual({ command: "watch", flags: {}, below: { confdir: "/etc/confd" } });
    expect(translate(["-watch", "-onetime"]).command).toBe("render");
  });

  it("parses flags as Go does: double dashes, =value, explicit booleans, -- ends the flags", () => {
    expect(translate(["--onetime", "--noop=false", "-sync-only=1", "--prefix=/p", "--"]).flags).toEqual({ noop: false, "sync-only": true, prefix: ["/p"] });
  });

  it("gives scheme-less nodes http://, or https:// when TLS is configured", () => {
    expect(translate(["-node", "127.0.0.1:2379", "-node", "10.0.0.2:2379"]).flags.endpoints).toEqual(["http://127.0.0.1:2379", "http://10.0.0.2:2379"]);
    expect(translate(["-node", "127.0.0.1:2379", "-client-ca-keys", "ca.pem"]).flags.endpoints).toEqual(["https://127.0.0.1:2379"]);
  });

  it("maps confd's log levels onto perch's", () => {
    expect(translate(["-log-level", "warning"]).flags["log-level"]).toBe("warn");
    expect(translate(["-log-level", "PANIC"]).flags["log-level"]).toBe("fatal");
    expect(translate(["-log-level", "Info"]).flags["log-level"]).toBe("info");
  });

  it("reads confd.toml below the flags, and confd's variables below confd.toml", async () => {
    const file = await confdToml(
      "full.toml",
      'backend = "etcd"\nconfdir = "/from/toml"\nnodes = ["127.0.0.1:2379"]\nprefix = "/t"\nonetime = true\nlog-level = "error"\nclient_cert = "t.crt"\nclient_key = "t.key"\nsync-only = true\nbasic_auth = false\nusername = "tu"\npassword = "tp"\nnoop = false\ninterval = 5\nwatch = false\nscheme = "http"\n',
    );
    const t = translateConfd(["-config-file", file, "-prefix", "/flag"], { CONFD_CLIENT_CAKEYS: "env-ca.pem", CONFD_CLIENT_CERT: "env.crt" }, none);
    expect(t.command).toBe("render");
    expect(t.flags).toEqual({ prefix: ["/flag"] });
    expect(t.below).toEqual({
      confdir: "/from/toml",
      backend: "etcd",
      endpoints: ["https://127.0.0.1:2379"],
      prefix: ["/t"],
      "log-level": "error",
      "cert-file": "t.crt",
      "key-file": "t.key",
      "ca-file": "env-ca.pem",
      "sync-only": true,
      username: "tu",
      password: "tp",
      noop: false,
    });
  });

  it("reads the default confd.toml when there is one, and defaults the nodes from ETCDCTL_PEERS", async () => {
    const file = await confdToml("default.toml", "watch = true\n");
    const t = translateConfd([], { ETCDCTL_PEERS: "http://a:2379,http://b:2379" }, file);
    expect(t).toEqual({ command: "watch", flags: {}, below: { confdir: "/etc/confd", endpoints: ["http://a:2379", "http://b:2379"] } });
  });

  it("passes -version and -help through", () => {
    expect(translate(["-version"]).flags).toEqual({ version: true });
    expect(translate(["-help"]).flags).toEqual({ help: true });
  });
});

describe("translateConfd errors", () => {
  it("names every bad flag at once", () => {
    expect(errorsOf(["-onetime", "-bogus", "-srv-domain", "example.com", "-client-insecure", "-interval", "abc", "-noop=maybe", "stray", "-node"])).toEqual([
      "unknown confd flag -bogus",
      "confd flag -srv-domain is not supported by perch: list the etcd endpoints with -node",
      "confd flag -client-insecure is not supported by perch: give etcd's CA with -client-ca-keys",
      'invalid value "abc" for -interval: not an integer',
      'invalid boolean value "maybe" for -noop',
      'unexpected argument "stray" (confd takes flags only)',
      "flag needs an argument: -node",
    ]);
  });

  it("refuses backends other than etcd", () => {
    expect(errorsOf(["-backend", "consul"])).toEqual(['confd backend "consul" is not supported: perch reads etcd (v3 API); use -backend etcdv3']);
  });

  it("refuses a polling interval that is not positive", () => {
    expect(errorsOf(["-interval", "0"])).toEqual(["-interval must be a positive number of seconds, got 0"]);
  });

  it("refuses arguments after --", () => {
    expect(errorsOf(["-onetime", "--", "x"])).toEqual(['unexpected argument "x" (confd takes flags only)']);
  });

  it("reports confd.toml's unknown, unsupported and mistyped settings with their lines", async () => {
    const file = await confdToml("bad.toml", 'backend = "etcd"\nsrv_domain = "example.com"\ninterval = "10"\nnodes = "a"\nconfdr = "/x"\n');
    expect(errorsOf(["-config-file", file])).toEqual([
      `${file}:2: confd setting "srv_domain" is not supported by perch: list the etcd endpoints with -node`,
      `${file}:3: confd setting "interval" must be an integer, got "10"`,
      `${file}:4: confd setting "nodes" must be a list of strings, got "a"`,
      `${file}:5: unknown confd setting "confdr"`,
    ]);
  });

  it("reports a confd.toml syntax error with its line and column", async () => {
    const file = await confdToml("syntax.toml", "backend = \n");
    expect(errorsOf(["-config-file", file])[0]).toMatch(new RegExp(`^${file.replace(/[.]/g, "\\.")}:1:\\d+: TOML syntax error: `));
  });
});

describe("confd settings in perch's precedence", () => {
  it("puts perch's environment between confd's flags and confd.toml", async () => {
    const file = await confdToml("layers.toml", 'nodes = ["http://toml:2379"]\nprefix = "/toml"\nlog-level = "debug"\n');
    const t = translateConfd(["-config-file", file, "-prefix", "/flag", "-confdir", dir], {}, none);
    const config = resolveConfig(t.command, t.flags, { ETCD_ENDPOINTS: "http://env:2379", PERCH_PREFIX: "/env" }, t.below);
    expect(config).toMatchObject({ command: "watch", confdir: dir, endpoints: ["http://env:2379"], prefix: ["/flag"], logLevel: "debug", intervalMs: 600_000 });
  });
});
