// Settings: flags over environment over perch.toml over defaults, validated once, every error reported.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PerchErrors } from "../../src/errors.js";
import { resolveConfig } from "../../src/cli/settings.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "perch-settings-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof PerchErrors) return err.errors.map((e) => e.toString());
    throw err;
  }
  throw new Error("expected errors");
}

describe("resolveConfig", () => {
  it("has defaults", () => {
    const c = resolveConfig("watch", {}, {});
    expect(c).toMatchObject({ confdir: ".", backend: "etcd", endpoints: ["http://127.0.0.1:2379"], wait: { minMs: 50, maxMs: 500 }, logLevel: "info", noop: false });
    expect(resolveConfig("render", {}, {}).logLevel).toBe("warn");
  });

  it("refuses a malformed etcd endpoint for every command that opens the store, not for the file backend", () => {
    const message = 'invalid etcd endpoint "etcd-1 etcd-2": expected http://HOST:PORT or https://HOST:PORT';
    for (const command of ["render", "watch", "snapshot"]) {
      const flags = command === "snapshot" ? { endpoints: ["etcd-1 etcd-2"], prefix: ["/calico"] } : { endpoints: ["etcd-1 etcd-2"] };
      expect(errorsOf(() => resolveConfig(command, flags, {}))).toEqual([message]);
    }
    expect(errorsOf(() => resolveConfig("render", {}, { ETCD_ENDPOINTS: "http://ok:2379,ftp://etcd:2379" }))).toEqual([
      'invalid etcd endpoint "ftp://etcd:2379": expected http://HOST:PORT or https://HOST:PORT',
    ]);
    expect(resolveConfig("render", { endpoints: ["etcd-1 etcd-2"], keys: "k.json" }, {}).backend).toBe("file");
    expect(resolveConfig("check", { endpoints: ["etcd-1 etcd-2"] }, {}).command).toBe("check");
  });

  it("takes etcd's standard variables", () => {
    const c = resolveConfig("render", {}, {
      ETCD_ENDPOINTS: "https://a:2379, https://b:2379",
      ETCD_CA_CERT_FILE: "/ca",
      ETCD_CERT_FILE: "/cert",
      ETCD_KEY_FILE: "/key",
      ETCD_USERNAME: "u",
      ETCD_PASSWORD: "p",
    });
    expect(c).toMatchObject({ endpoints: ["https://a:2379", "https://b:2379"], caFile: "/ca", certFile: "/cert", keyFile: "/key", username: "u", password: "p" });
  });

  it("orders flags over environment over perch.toml", async () => {
    await writeFile(path.join(dir, "perch.toml"), 'node_name = "from-file"\nlog_level = "debug"\nwait = "1s:2s"\nendpoints = ["http://file:1"]\n');
    const c = resolveConfig("watch", { confdir: dir, "node-name": "from-flag" }, { PERCH_NODE_NAME: "from-env", PERCH_LOG_LEVEL: "error" });
    expect(c.nodeName).toBe("from-flag");
    expect(c.logLevel).toBe("error");
    expect(c.wait).toEqual({ minMs: 1000, maxMs: 2000 });
    expect(c.endpoints).toEqual(["http://file:1"]);
  });

  it("takes --log-format from a flag, PERCH_LOG_FORMAT or perch.toml's log_format; unset, it is left to the logger (text on a terminal)", async () => {
    expect(resolveConfig("render", {}, {}).logFormat).toBeUndefined();
    await writeFile(path.join(dir, "perch.toml"), 'log_format = "text"\n');
    expect(resolveConfig("watch", { confdir: dir }, {}).logFormat).toBe("text");
    expect(resolveConfig("watch", { confdir: dir }, { PERCH_LOG_FORMAT: "json" }).logFormat).toBe("json");
    expect(resolveConfig("watch", { confdir: dir, "log-format": "text" }, { PERCH_LOG_FORMAT: "json" }).logFormat).toBe("text");
    expect(errorsOf(() => resolveConfig("render", { "log-format": "pretty" }, {}))).toEqual(['--log-format must be json or text, got "pretty"']);
    await writeFile(path.join(dir, "perch.toml"), "log_format = 1\n");
    expect(errorsOf(() => resolveConfig("render", { confdir: dir }, {}))).toEqual(['--log-format must be json or text, got "1"']);
  });

  it("finds perch.toml in a confdir given by PERCH_CONFDIR", async () => {
    await writeFile(path.join(dir, "perch.toml"), 'backend = "file"\nkeys = "k.json"\n');
    expect(resolveConfig("render", {}, { PERCH_CONFDIR: dir })).toMatchObject({ backend: "file", keys: "k.json" });
  });

  it("reports every problem at once", () => {
    expect(
      errorsOf(() => resolveConfig("watch", { backend: "consul", "log-level": "loud", wait: "fast", listen: "nowhere", "check-timeout": "0s", "cert-file": "/c" }, {})),
    ).toEqual([
      '--backend must be etcd or file, got "consul"',
      '--log-level must be one of trace, debug, info, warn, error, fatal, silent (or confd\'s warning, panic), got "loud"',
      '--wait: "fast" is not a duration (like "100ms" or "1s")',
      '--listen must be HOST:PORT, got "nowhere"',
      '--check-timeout must be a positive duration like "10s", got "0s"',
      "--cert-file and --key-file go together",
    ]);
  });

  it("rejects unknown and mistyped perch.toml settings with their line", async () => {
    const file = path.join(dir, "perch.toml");
    await writeFile(file, 'confdir = "."\nnode_nmae = "x"\nnoop = "yes"\n');
    expect(errorsOf(() => resolveConfig("render", { confdir: dir, keys: "k" }, {}))).toEqual([
      `${file}:2: unknown setting "node_nmae"`,
      `${file}:3: setting "noop" must be true or false`,
    ]);
  });

  it("needs --keys for the file backend", () => {
    expect(errorsOf(() => resolveConfig("render", { backend: "file" }, {}))).toEqual(["--backend file needs --keys FILE"]);
  });
});
