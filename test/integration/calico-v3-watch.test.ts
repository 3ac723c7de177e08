/**
 * `perch watch --calico-v3` against a real etcd: v3 changes reach the files through the change
 * stream alone, and after each one — a label change that makes a selector stop matching, a Node's
 * new address, a Node deleted, the mesh turned on, changes made while perch was cut off and then
 * compacted away — the daemon's files equal what a fresh one-shot derivation renders.
 */
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDatastoreCase } from "../helpers/calico-datastore.js";
import { copyCalicoSet, makeConfdir, runPerch, type TestConfdir } from "../helpers/confdir.js";
import { startEtcd, type EtcdServer } from "../helpers/etcd-server.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";
import { startWatch, waitFor, type WatchProcess } from "../helpers/watch-process.js";

const NODES = "/calico/resources/v3/projectcalico.org/nodes/";
const CONFIG = "/calico/resources/v3/projectcalico.org/bgpconfigurations/default";
const CASE = readDatastoreCase("explicit_peering/selectors");
const CONFIG_SUBDIR = "etc/calico/confd/config";

let etcd: EtcdServer;
let proxy: TcpProxy;
let confdir: TestConfdir;
let watch: WatchProcess;
/** The shipped Calico set without check_cmd/reload_cmd: stock BIRD cannot parse this case's IPIP pool. */
let calicoSet = "";

/** The installed files: a daemon's stage files come and go beside them while it writes, and are no part of it. */
async function tree(root: string): Promise<Record<string, string>> {
  const dir = path.join(root, CONFIG_SUBDIR);
  const out: Record<string, string> = {};
  const installed = (await readdir(dir).catch(() => [])).filter((f) => !f.includes(".perch-stage-")).sort();
  for (const f of installed) out[f] = await readFile(path.join(dir, f), "utf8");
  return out;
}

/** A fresh `perch render --calico-v3` of etcd as it is now. */
let fresh = 0;
async function freshRender(): Promise<Record<string, string>> {
  const root = path.join(confdir.dir, `fresh-${fresh++}`);
  const r = await runPerch(["render", "--confdir", calicoSet, "--calico-v3", "--backend", "etcd", "--endpoints", etcd.clientUrl, "--node-name", "kube-master", "--root", root]);
  expect(r.exitCode, r.all).toBe(0);
  return tree(root);
}

/** The daemon's files equal a fresh render (the daemon may still be catching up: poll). */
async function expectConverged(): Promise<Record<string, string>> {
  const expected = await freshRender();
  const daemonRoot = path.join(confdir.dir, "daemon");
  await waitFor("the daemon's files to equal a fresh render", async () => (JSON.stringify(await tree(daemonRoot)) === JSON.stringify(expected) ? true : undefined), 20_000);
  return expected;
}

function nodeValue(name: string): Record<string, unknown> {
  return JSON.parse(CASE.etcd[NODES + name] as string) as Record<string, unknown>;
}

beforeAll(async () => {
  etcd = await startEtcd();
  proxy = await startTcpProxy(etcd.clientUrl);
  confdir = await makeConfdir();
  calicoSet = path.join(confdir.dir, "calico-set");
  await copyCalicoSet(calicoSet, (toml) => toml.replace(/^(check_cmd|reload_cmd) = .*$/gm, ""));
  const client = etcd.client();
  await Promise.all(Object.entries(CASE.etcd).map(([key, value]) => client.put(key).value(value)));
  watch = await startWatch(["--confdir", calicoSet, "--calico-v3", "--backend", "etcd", "--endpoints", `http://${proxy.address}`, "--node-name", "kube-master", "--root", path.join(confdir.dir, "daemon"), "--wait", "0ms"]);
  await waitFor("the first pass", async () => ((await watch.readyz()) === 200 ? true : undefined), 20_000);
});

afterAll(async () => {
  await watch?.stop();
  await proxy?.close();
  await etcd?.stop();
  await confdir?.cleanup();
});

describe("perch watch --calico-v3", () => {
  it("starts with the files a one-shot render gives (Calico's goldens for this case)", async () => {
    const files = await expectConverged();
    // group=='one' (kube-master) peers with group=='two' (kube-node-1, kube-node-2).
    expect(files["bird.cfg"]).toContain("Node_10_192_0_3");
    expect(files["bird.cfg"]).toContain("Node_10_192_0_4");
  });

  it("drops a peering when its node's labels stop matching the peerSelector", async () => {
    const node = nodeValue("kube-node-2");
    (node.metadata as Record<string, unknown>).labels = { group: "three" };
    await etcd.client().put(`${NODES}kube-node-2`).value(JSON.stringify(node));
    const files = await expectConverged();
    expect(files["bird.cfg"]).not.toContain("Node_10_192_0_4");
    expect(files["bird.cfg"]).toContain("Node_10_192_0_3");
  });

  it("follows a Node's new address without listing again", async () => {
    const syncsBefore = watch.events.filter((e) => e.event === "sync").length;
    const node = nodeValue("kube-node-1");
    node.spec = { bgp: { ipv4Address: "10.192.0.33/16", ipv6Address: "fd5f::33/96" } };
    await etcd.client().put(`${NODES}kube-node-1`).value(JSON.stringify(node));
    const files = await expectConverged();
    expect(files["bird.cfg"]).toContain("Node_10_192_0_33");
    expect(files["bird6.cfg"]).toContain("fd5f::33");
    expect(watch.events.filter((e) => e.event === "sync").length).toBe(syncsBefore);
  });

  it("removes a deleted Node's peerings", async () => {
    await etcd.client().delete().key(`${NODES}kube-node-1`);
    const files = await expectConverged();
    expect(files["bird.cfg"]).not.toContain("10.192.0.33");
  });

  it("turns the mesh on and off with BGPConfiguration default", async () => {
    const config = JSON.parse(CASE.etcd[CONFIG] as string) as Record<string, unknown>;
    await etcd.client().put(CONFIG).value(JSON.stringify({ ...config, spec: { nodeToNodeMeshEnabled: true } }));
    expect((await expectConverged())["bird.cfg"]).toContain("Mesh_");
    await etcd.client().delete().key(CONFIG);
    // Deleted: the default, which is the mesh on.
    expect((await expectConverged())["bird.cfg"]).toContain("Mesh_");
    await etcd.client().put(CONFIG).value(CASE.etcd[CONFIG] as string);
    expect((await expectConverged())["bird.cfg"]).not.toContain("Mesh_");
  });

  it("perch snapshot --calico-v3 saves what a file-backed render needs to give the same files", async () => {
    const snapshot = path.join(confdir.dir, "datastore.json");
    const saved = await runPerch(["snapshot", "--calico-v3", "--endpoints", etcd.clientUrl, "-o", snapshot]);
    expect(saved.exitCode, saved.all).toBe(0);
    const keys = Object.keys(JSON.parse(await readFile(snapshot, "utf8")) as object);
    expect(keys).toContain(`${NODES}kube-master`);
    // Every node's affinities, so the snapshot renders for any --node-name.
    expect(keys.some((k) => k.startsWith("/calico/ipam/v2/host/kube-master/"))).toBe(true);
    const root = path.join(confdir.dir, "from-snapshot");
    const r = await runPerch(["render", "--confdir", calicoSet, "--calico-v3", "--backend", "file", "--keys", snapshot, "--node-name", "kube-master", "--root", root]);
    expect(r.exitCode, r.all).toBe(0);
    expect(await tree(root)).toEqual(await freshRender());
  });

  it("lists again and converges when changes made while it was cut off were compacted away", async () => {
    proxy.cut();
    await waitFor("perch to see the store gone", async () => ((await watch.readyz()) !== 200 ? true : undefined), 20_000);
    const client = etcd.client();
    const node = nodeValue("kube-node-1");
    node.metadata = { ...(node.metadata as object), labels: { group: "two" } };
    node.spec = { bgp: { ipv4Address: "10.192.0.77/16" } };
    await client.put(`${NODES}kube-node-1`).value(JSON.stringify(node));
    await client.put(`${NODES}kube-node-2`).value(CASE.etcd[`${NODES}kube-node-2`] as string);
    const revision = Number((await client.get("/calico/none").exec()).header.revision);
    await client.put("/calico/compaction-marker").value("x");
    await client.kv.compact({ revision: String(revision + 1) });
    await proxy.restore();
    const files = await expectConverged();
    expect(files["bird.cfg"]).toContain("Node_10_192_0_77");
    expect(files["bird.cfg"]).toContain("Node_10_192_0_4");
    await waitFor("a relist after the compaction", () => watch.events.find((e) => e.event === "sync" && e.reason === "compacted"), 20_000);
  });
});
