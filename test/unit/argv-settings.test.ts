// Settings alike in both command-line forms: log level names (perch's and confd's spellings) and
// empty values, which are the setting not given — in flags, confd flags, confd.toml, the environment
// and perch.toml.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PerchErrors } from "../../src/errors.js";
import { parseArgv } from "../../src/cli/argv.js";
import { translateConfd } from "../../src/cli/confd-compat.js";
import { resolveConfig, type Config } from "../../src/cli/settings.js";
import { useTempDir } from "../helpers/temp-dir.js";

const dir = useTempDir("perch-argv-settings-");

/** `perch ARGV` as main resolves it, with `env`. */
function perch(argv: string[], env: NodeJS.ProcessEnv = {}): Config {
  const { command, flags } = parseArgv(argv);
  return resolveConfig(command as string, flags, env);
}

/** The same, invoked with confd's command line (no confd.toml). */
function confd(argv: string[], env: NodeJS.ProcessEnv = {}, configFile = path.join(dir.path, "none.toml")): Config {
  const { command, flags, below } = translateConfd(argv, env, configFile);
  return resolveConfig(command, flags, env, below);
}

function refused(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof PerchErrors) return err.errors.map(String);
    throw err;
  }
  throw new Error("expected the settings to be refused");
}

describe("log level names", () => {
  it("takes confd's spellings in perch's form, in any case, from a flag, the environment or perch.toml", async () => {
    expect(perch(["render", "--log-level", "warning"]).logLevel).toBe("warn");
    expect(perch(["render", "--log-level=PANIC"]).logLevel).toBe("fatal");
    expect(perch(["watch", "--log-level", "Debug"]).logLevel).toBe("debug");
    expect(perch(["watch"], { PERCH_LOG_LEVEL: "Warning" }).logLevel).toBe("warn");
    await writeFile(path.join(dir.path, "perch.toml"), 'log_level = "warning"\n');
    expect(perch(["check", "--confdir", dir.path]).logLevel).toBe("warn");
  });

  it("takes perch's spellings in confd's form", () => {
    for (const level of ["trace", "debug", "info", "warn", "warning", "error", "fatal", "panic", "silent"]) {
      const expected = { warning: "warn", panic: "fatal" }[level] ?? level;
      expect(confd(["-onetime", `-log-level=${level}`]).logLevel).toBe(expected);
      expect(perch(["render", "--log-level", level]).logLevel).toBe(expected);
    }
  });

  it("refuses another name alike in both forms, naming every accepted one", () => {
    const message = '--log-level must be one of trace, debug, info, warn, error, fatal, silent (or confd\'s warning, panic), got "verbose"';
    expect(refused(() => perch(["render", "--log-level", "verbose"]))).toEqual([message]);
    expect(refused(() => confd(["-onetime", "-log-level", "verbose"]))).toEqual([message]);
  });
});

describe("empty values", () => {
  it("runs Calico's old confd line without TLS when its variables are unset", () => {
    const c = confd(["-confdir=/etc/calico/confd", "-interval=5", "-watch", "--log-level=debug", "-node=127.0.0.1:2379", "-client-key=", "-client-cert=", "-client-ca-keys="]);
    expect(c).toMatchObject({ command: "watch", endpoints: ["http://127.0.0.1:2379"], logLevel: "debug" });
    expect([c.caFile, c.certFile, c.keyFile]).toEqual([undefined, undefined, undefined]);
  });

  it("leaves an empty confd flag to the layers below it: the environment, confd.toml", async () => {
    expect(confd(["-onetime", "-client-key=", "-client-cert="], { ETCD_KEY_FILE: "/env/k.pem", ETCD_CERT_FILE: "/env/c.pem" })).toMatchObject({ keyFile: "/env/k.pem", certFile: "/env/c.pem" });
    const file = path.join(dir.path, "confd.toml");
    await writeFile(file, 'client_key = "/toml/k.pem"\nclient_cert = "/toml/c.pem"\nclient_cakeys = ""\nnodes = []\nprefix = ""\n');
    const c = confd(["-onetime", "-client-key="], {}, file);
    expect(c).toMatchObject({ keyFile: "/toml/k.pem", certFile: "/toml/c.pem", caFile: undefined, endpoints: ["http://127.0.0.1:2379"], prefix: [] });
  });

  it("takes an empty perch flag, variable or perch.toml value as not given", async () => {
    expect(perch(["render", "--key-file=", "--cert-file="], { ETCD_KEY_FILE: "/env/k.pem", ETCD_CERT_FILE: "/env/c.pem" })).toMatchObject({ keyFile: "/env/k.pem", certFile: "/env/c.pem" });
    expect(perch(["render", "--endpoints=", "--root=", "--prefix="], { ETCD_ENDPOINTS: "", PERCH_ROOT: "" })).toMatchObject({ endpoints: ["http://127.0.0.1:2379"], root: undefined, prefix: [] });
    await writeFile(path.join(dir.path, "perch.toml"), 'key_file = ""\ncert_file = ""\nendpoints = []\n');
    expect(perch(["render", "--confdir", dir.path])).toMatchObject({ keyFile: undefined, certFile: undefined, endpoints: ["http://127.0.0.1:2379"] });
    expect(perch(["render", "--confdir=", "--backend=file", "--keys=k.json"])).toMatchObject({ confdir: ".", backend: "file" });
  });

  it("still refuses a lone certificate: an empty key does not make one up", () => {
    expect(refused(() => confd(["-onetime", "-client-cert=/c.pem", "-client-key="]))).toEqual(["--cert-file and --key-file go together"]);
  });
});
