/**
 * `--calico-v3` against Calico's own data: every case of the v3.16 datastore fixtures derives the v1
 * view Calico's confd holds (keys.json, on every key, pinned or not), and renders Calico's goldens —
 * from the fixture file, from a real etcd loaded with it, and through the CLI.
 */
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CalicoV3Listing } from "../../src/calico-v3/calico-v3-store.js";
import type { DerivationProblem } from "../../src/calico-v3/derivation.js";
import { etcdSourcePrefixes, FILE_SOURCE_PREFIXES } from "../../src/calico-v3/sources.js";
import { Mirror } from "../../src/mirror/mirror.js";
import { OneShotEtcdStore } from "../../src/store/etcd/oneshot-store.js";
import { FileStore } from "../../src/store/file-store.js";
import type { ListingStore } from "../../src/store/types.js";
import { deriveCase, findDatastoreCases, readDatastoreCase, v1Root, type DatastoreCase } from "../helpers/calico-datastore.js";
import { makeConfdir, REPO, runPerch, type TestConfdir } from "../helpers/confdir.js";
import { goldenProblems, renderCase, resourcesFor } from "../helpers/conformance.js";
import { startEtcd, type EtcdServer } from "../helpers/etcd-server.js";

const cases = findDatastoreCases();

/** keys.json against a derived view: every difference, pinned ones marked. */
function viewProblems(c: DatastoreCase, view: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(c.keys)) {
    if (view.get(key) !== value) problems.push(`${c.unpinned.has(key) ? "unpinned" : "PINNED"} ${key}: keys.json ${value}, derived ${view.get(key) ?? "(absent)"}`);
  }
  for (const [key, value] of view) if (!(key in c.keys)) problems.push(`extra ${key}: ${value}`);
  return problems;
}

/** List through a CalicoV3Listing over `source` what the Calico set's resources read, and render it. */
async function renderThrough(source: ListingStore, sourcePrefixes: readonly string[], c: DatastoreCase): Promise<{ rendered: Map<string, string>; problems: DerivationProblem[] }> {
  const nodeName = c.env.NODENAME as string;
  const problems: DerivationProblem[] = [];
  const store = new CalicoV3Listing(source, sourcePrefixes, { nodeName, env: { NODENAME: nodeName }, kubernetesFile: c.kubernetesFile, onProblem: (p) => problems.push(p) });
  const resources = await resourcesFor(nodeName);
  try {
    const snapshot = await store.list(new Mirror(resources.map((r) => r.selection)).watchPrefixes());
    const keys = Object.fromEntries(snapshot.kvs.map(({ key, value }) => [key, value]));
    return { rendered: await renderCase({ env: c.env, keys }), problems };
  } finally {
    await store.close();
  }
}

const expectedDir = (rel: string) => path.join(v1Root, rel, "expected");
const errorsOf = (problems: DerivationProblem[]) => problems.filter((p) => p.severity === "error");

describe("Calico v3.16 datastore conformance", () => {
  it("finds the cases", () => {
    // 18 cases in the fixtures; more may be added, none may vanish unnoticed.
    expect(cases.length).toBeGreaterThanOrEqual(18);
  });

  describe("the derived view equals Calico's v1 cache", () => {
    for (const rel of cases) {
      it(rel, () => {
        const c = readDatastoreCase(rel);
        const { view, problems } = deriveCase(c);
        expect(viewProblems(c, view)).toEqual([]);
        expect(errorsOf(problems)).toEqual([]);
      });
    }
  });

  let etcd: EtcdServer;
  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(async () => {
    await etcd.stop();
  });

  const backends: Array<{ name: string; open(c: DatastoreCase): Promise<{ source: ListingStore; prefixes: readonly string[] }> }> = [
    { name: "the fixture file", open: async (c) => ({ source: new FileStore(c.etcdFile), prefixes: FILE_SOURCE_PREFIXES }) },
    {
      name: "a real etcd loaded with etcd.json",
      async open(c) {
        const client = etcd.client();
        await client.delete().prefix("/calico/");
        await Promise.all(Object.entries(c.etcd).map(([key, value]) => client.put(key).value(value)));
        return { source: new OneShotEtcdStore({ endpoints: [etcd.clientUrl] }), prefixes: etcdSourcePrefixes(c.env.NODENAME as string) };
      },
    },
  ];
  for (const backend of backends) {
    describe(`renders the goldens from ${backend.name}`, () => {
      for (const rel of cases) {
        it(rel, async () => {
          const c = readDatastoreCase(rel);
          const { source, prefixes } = await backend.open(c);
          const { rendered, problems } = await renderThrough(source, prefixes, c);
          expect(goldenProblems(expectedDir(rel), rendered)).toEqual([]);
          expect(errorsOf(problems)).toEqual([]);
        });
      }
    });
  }
});

describe("perch render --calico-v3", () => {
  let confdir: TestConfdir;
  beforeAll(async () => {
    confdir = await makeConfdir();
  });
  afterAll(async () => {
    await confdir.cleanup();
  });

  async function renderedTree(root: string): Promise<Map<string, string>> {
    const dir = path.join(root, "etc/calico/confd/config");
    return new Map(await Promise.all((await readdir(dir)).map(async (f) => [f, await readFile(path.join(dir, f), "utf8")] as const)));
  }

  it("renders the goldens from a fixture file, and BIRD accepts them (the VXLAN case: no krt_tunnel)", async () => {
    const rel = "mesh/vxlan-always";
    const c = readDatastoreCase(rel);
    const root = path.join(confdir.dir, "vxlan");
    const r = await runPerch(["render", "--confdir", REPO, "--calico-v3", "--backend", "file", "--keys", c.etcdFile, "--node-name", "kube-master", "--root", root, "--sync-only"]);
    // --sync-only: no `sv hup`; the check_cmd (bird -p -c) still runs on bird.cfg and its includes.
    expect(r.all).not.toContain("check-failed");
    expect(r.exitCode).toBe(0);
    expect(goldenProblems(expectedDir(rel), await renderedTree(root))).toEqual([]);
  });

  it("takes the Kubernetes objects from --calico-kubernetes (service routes) and fails without them", async () => {
    const rel = "mesh/static-routes";
    const c = readDatastoreCase(rel);
    const args = (root: string) => ["render", "--confdir", REPO, "--calico-v3", "--backend", "file", "--keys", c.etcdFile, "--node-name", "kube-master", "--root", root, "--noop", "--only", "bird_aggr"];
    const withObjects = await runPerch([...args(path.join(confdir.dir, "sr1")), "--calico-kubernetes", c.kubernetesFile as string, "--diff"]);
    expect(withObjects.stdout).toContain("+protocol static");
    expect(withObjects.stdout).toContain("10.101.0.101/32");
    const without = await runPerch([...args(path.join(confdir.dir, "sr2")), "--diff"]);
    expect(without.stdout).not.toContain("10.101.0.101/32");
  });

  it("names a resource it leaves out, exits 1, and still renders the rest", async () => {
    const c = readDatastoreCase("mesh/vxlan-always");
    const broken = { ...c.etcd, "/calico/resources/v3/projectcalico.org/nodes/kube-node-1": "{not json" };
    const keys = path.join(confdir.dir, "broken.json");
    await import("node:fs/promises").then((fs) => fs.writeFile(keys, JSON.stringify(broken)));
    const root = path.join(confdir.dir, "broken");
    const r = await runPerch(["render", "--confdir", REPO, "--calico-v3", "--backend", "file", "--keys", keys, "--node-name", "kube-master", "--root", root, "--sync-only"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("/calico/resources/v3/projectcalico.org/nodes/kube-node-1: value is not JSON");
    expect(r.stderr).toContain("the resource is left out");
    const bird = (await renderedTree(root)).get("bird.cfg") ?? "";
    expect(bird).toContain("Mesh_10_192_0_4");
    expect(bird).not.toContain("Mesh_10_192_0_3");
  });

  it("perch check --calico-v3 lists the v3 kinds it reads and what each becomes", async () => {
    const r = await runPerch(["check", "--confdir", REPO, "--calico-v3", "--node-name", "node-a"]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain("calico-v3: the keys above are derived from Calico v3.16's datastore, read from");
    for (const source of ["/calico/resources/v3/projectcalico.org/nodes/", "/calico/resources/v3/projectcalico.org/bgpconfigurations/", "/calico/resources/v3/projectcalico.org/bgppeers/", "/calico/resources/v3/projectcalico.org/ippools/", "/calico/ipam/v2/host/node-a/"]) {
      expect(r.stdout).toContain(source);
    }
    expect(r.stdout).toMatch(/BGPPeer\n\s+→ \/calico\/bgp\/v1\/\{global,host\/<node>\}\/peer_v4\|peer_v6\/\*/);
  });

  it("refuses --prefix and a Kubernetes file without --calico-v3, naming both", async () => {
    const a = await runPerch(["render", "--calico-v3", "--prefix", "/x", "--backend", "file", "--keys", "k.json"]);
    expect(a.exitCode).toBe(2);
    expect(a.stderr).toContain("--prefix cannot be combined with --calico-v3: the derived v1 keys are at Calico's own paths (/calico/...)");
    const b = await runPerch(["render", "--calico-kubernetes", "k8s.json", "--backend", "file", "--keys", "k.json"]);
    expect(b.exitCode).toBe(2);
    expect(b.stderr).toContain("--calico-kubernetes needs --calico-v3");
  });

  it("takes PERCH_CALICO_V3=1 and calico_v3 = true in perch.toml", async () => {
    const c = readDatastoreCase("mesh/vxlan-always");
    const base = ["render", "--confdir", REPO, "--backend", "file", "--keys", c.etcdFile, "--node-name", "kube-master", "--sync-only"];
    const fromEnv = await runPerch([...base, "--root", path.join(confdir.dir, "env")], { env: { PERCH_CALICO_V3: "1" } });
    expect(fromEnv.exitCode).toBe(0);
    expect(fromEnv.stdout).toMatch(/^written +bird +/m);
    const withoutIt = await runPerch([...base, "--root", path.join(confdir.dir, "none")]);
    // Without the derivation the raw v3 keys hold no /calico/bgp/v1/host/kube-master/ip_addr_v4.
    expect(withoutIt.exitCode).toBe(1);
    expect(withoutIt.stdout).toMatch(/^render-failed +bird +/m);
    const tomlDir = path.join(confdir.dir, "tomlconf");
    const fs = await import("node:fs/promises");
    await fs.cp(path.join(REPO, "conf.d"), path.join(tomlDir, "conf.d"), { recursive: true });
    await fs.cp(path.join(REPO, "templates"), path.join(tomlDir, "templates"), { recursive: true });
    await fs.writeFile(path.join(tomlDir, "perch.toml"), "calico_v3 = true\n");
    const fromToml = await runPerch([...base.map((a) => (a === REPO ? tomlDir : a)), "--root", path.join(confdir.dir, "toml")]);
    expect(fromToml.exitCode).toBe(0);
  });
});
