// `perch render` from a real etcd: the same files as from the same keys in a file, over plain,
// TLS and password-protected connections.
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeConfdir, REPO, runPerch, type TestConfdir } from "../helpers/confdir.js";
import { startEtcd, type EtcdServer } from "../helpers/etcd-server.js";

const EXAMPLE_KEYS = JSON.parse(await import("node:fs").then((fs) => fs.readFileSync(path.join(REPO, "examples/keys.json"), "utf8"))) as Record<string, string>;

async function putAll(server: EtcdServer): Promise<void> {
  const client = server.client();
  await Promise.all(Object.entries(EXAMPLE_KEYS).map(([k, v]) => client.put(k).value(v)));
}

async function readTree(root: string): Promise<Record<string, string>> {
  const dir = path.join(root, "etc/calico/confd/config");
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir)).sort()) out[f] = await readFile(path.join(dir, f), "utf8");
  return out;
}

const renderArgs = (root: string) => ["render", "--confdir", path.join(REPO, "examples"), "--node-name", "node-a", "--root", root];

let c: TestConfdir;
afterEach(async () => {
  await c?.cleanup();
});

describe("render from etcd", () => {
  let etcd: EtcdServer;
  beforeAll(async () => {
    etcd = await startEtcd();
    await putAll(etcd);
  });
  afterAll(async () => {
    await etcd.stop();
  });

  it("writes the same files as the file store with the same keys", async () => {
    c = await makeConfdir();
    const fromEtcd = path.join(c.dir, "etcd");
    const fromFile = path.join(c.dir, "file");
    const a = await runPerch([...renderArgs(fromEtcd), "--backend", "etcd", "--endpoints", etcd.clientUrl]);
    expect(a.stderr).toBe("");
    expect(a.exitCode).toBe(0);
    const b = await runPerch([...renderArgs(fromFile), "--backend", "file", "--keys", path.join(REPO, "examples/keys.json")]);
    expect(b.exitCode).toBe(0);
    const etcdTree = await readTree(fromEtcd);
    expect(Object.keys(etcdTree)).toHaveLength(6);
    expect(etcdTree).toEqual(await readTree(fromFile));
    expect(etcdTree["bird.cfg"]).toContain("protocol bgp Mesh_10_10_0_2 from bgp_template");
  });

  it("takes the endpoints from ETCD_ENDPOINTS and fails over past a dead one", async () => {
    c = await makeConfdir();
    const r = await runPerch([...renderArgs(c.out)], { env: { ETCD_ENDPOINTS: `http://127.0.0.1:1,${etcd.clientUrl}` } });
    expect(r.exitCode).toBe(0);
  });

  it("names a refused endpoint", async () => {
    c = await makeConfdir();
    const r = await runPerch([...renderArgs(c.out), "--endpoints", "http://127.0.0.1:1"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("perch render: cannot connect to etcd at http://127.0.0.1:1: connection refused");
  });
});

describe("render from etcd with TLS and a password", () => {
  it("uses the CA, client certificate and key", async () => {
    const etcd = await startEtcd({ tls: true });
    try {
      await putAll(etcd);
      c = await makeConfdir();
      const r = await runPerch([...renderArgs(c.out), "--endpoints", etcd.clientUrl, "--ca-file", etcd.caFile as string, "--cert-file", etcd.certFile as string, "--key-file", etcd.keyFile as string]);
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      expect(Object.keys(await readTree(c.out))).toHaveLength(6);
      const noCert = await runPerch([...renderArgs(c.out), "--endpoints", etcd.clientUrl, "--ca-file", etcd.caFile as string]);
      expect(noCert.exitCode).toBe(1);
      expect(noCert.stderr).toMatch(/perch render: cannot connect to etcd at https:\/\/127\.0\.0\.1:\d+: TLS handshake with 127\.0\.0\.1:\d+ failed: /);
    } finally {
      await etcd.stop();
    }
  });

  it("authenticates with ETCD_USERNAME/ETCD_PASSWORD and never prints the password", async () => {
    const password = "s3cret-Pa55";
    const etcd = await startEtcd({ auth: { user: "root", password } });
    try {
      await putAll(etcd);
      c = await makeConfdir();
      const ok = await runPerch([...renderArgs(c.out), "--endpoints", etcd.clientUrl, "--log-level", "debug"], { env: { ETCD_USERNAME: "root", ETCD_PASSWORD: password } });
      expect(ok.exitCode).toBe(0);
      expect(ok.all).not.toContain(password);
      const wrong = await runPerch([...renderArgs(c.out), "--endpoints", etcd.clientUrl, "--log-level", "debug"], { env: { ETCD_USERNAME: "root", ETCD_PASSWORD: "wrong-one" } });
      expect(wrong.exitCode).toBe(1);
      expect(wrong.stderr).toContain(`authentication failed for user "root": wrong user name or password`);
      expect(wrong.all).not.toContain("wrong-one");
    } finally {
      await etcd.stop();
    }
  });
});
