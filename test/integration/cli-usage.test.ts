// The shipped command's answers to a mistyped command line (one problem, the nearest flag, where help
// is — not the whole help), per-command help, the connection failure's documented exit status, and
// Calico's old confd run script with its TLS variables unset, against a real etcd.
import { readFile, symlink } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../src/cli/exit.js";
import { PERCH, REPO, resourceToml, runPerch, useConfdir } from "../helpers/confdir.js";
import { startEtcd, type EtcdServer } from "../helpers/etcd-server.js";
import { freePort } from "../helpers/watch-process.js";

describe("perch's answers to a command line it cannot take", () => {
  it("gives the one problem, the nearest flags and the command's --help, and exits 2", async () => {
    const r = await runPerch(["render", "--confdir", "x", "--key", "k.pem"]);
    expect(r.exitCode).toBe(EXIT.usage);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("perch: unknown flag --key (did you mean --keys or --key-file?)\nRun 'perch render --help' for its flags.");
  });

  it("names the nearest command, or none given", async () => {
    const r = await runPerch(["wacth", "--noop"]);
    expect(r.exitCode).toBe(EXIT.usage);
    expect(r.stderr).toBe("perch: unknown command \"wacth\" (did you mean watch?)\nRun 'perch --help' for the commands and their flags.");
    const none = await runPerch([]);
    expect(none.exitCode).toBe(EXIT.usage);
    expect(none.stderr).toBe("perch: no command given (commands: render, watch, check, snapshot, convert)\nRun 'perch --help' for the commands and their flags.");
  });

  it("in confd's form, names the nearest confd flag and how this program shows confd's help", async () => {
    const r = await runPerch(["-onetime", "-nodes", "127.0.0.1:2379"]);
    expect(r.exitCode).toBe(EXIT.usage);
    expect(r.stderr).toBe("perch: unknown confd flag -nodes (did you mean -node?)\nRun 'perch -help' for the confd flags perch takes.");
    const help = await runPerch(["-help"]);
    expect(help.exitCode).toBe(EXIT.ok);
    expect(help.stdout).toMatch(/^usage: perch -FLAG…/);
  });

  it("perch COMMAND --help prints that command's help on stdout and exits 0", async () => {
    const r = await runPerch(["check", "--help"]);
    expect(r.exitCode).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^usage: perch check \[flags\]\n\nload every resource and template/);
    expect(r.stdout).not.toContain("--endpoints");
    expect(r.stdout).toMatch(/\nexit status: 0 ok; 1 .*; 2 bad usage or configuration; 3 --exit-code and something would change$/);
  });
});

describe("a store perch cannot reach", () => {
  it("exits 1 — the README's status for it — naming the endpoint", async () => {
    const port = await freePort();
    const r = await runPerch(["render", "--confdir", path.join(REPO, "examples"), "--node-name", "node-a", "--endpoints", `http://127.0.0.1:${port}`, "--log-level", "silent"]);
    expect(r.exitCode).toBe(EXIT.failed);
    expect(r.stderr).toBe(`perch render: cannot connect to etcd at http://127.0.0.1:${port}: connection refused (is etcd running and listening there?)`);
    const readme = await readFile(path.join(REPO, "README.md"), "utf8");
    expect(readme).toMatch(/^\| 1 \| .*the store could not be read — etcd unreachable \(`cannot connect to etcd at …`\)/m);
  });
});

describe("Calico's old confd run script, its TLS variables unset", () => {
  let etcd: EtcdServer;
  const c = useConfdir();
  beforeAll(async () => {
    etcd = await startEtcd();
    await etcd.client().put("/calico/bgp/v1/global/as_num").value("64512");
  });
  afterAll(async () => {
    await etcd.stop();
  });

  it("renders over plain HTTP instead of looking for files named \"\"", async () => {
    await c.writeTemplate("as.hbs", 'as {{getv "/global/as_num"}}\n');
    await c.writeResource("as", resourceToml("as.hbs", path.join(c.out, "as.cfg"), ["/global"], 'prefix = "/calico/bgp/v1"'));
    // calico/node's confd service: -client-key=${ETCD_KEY_FILE} … with ETCD_KEY_FILE unset.
    const link = path.join(c.dir, "confd");
    await symlink(PERCH, link);
    const r = await execa("node", [link, `-confdir=${c.dir}`, "-onetime", "--log-level=warning", `-node=${etcd.endpoint}`, "-client-key=", "-client-cert=", "-client-ca-keys="], {
      reject: false,
      env: { NODENAME: "node-a", ETCD_ENDPOINTS: "" },
    });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(EXIT.ok);
    expect(await readFile(path.join(c.out, "as.cfg"), "utf8")).toBe("as 64512\n");
  });
});
