/**
 * Calico v3.16 conformance: the shipped conf.d/ and templates/ must reproduce Calico's own golden
 * BIRD configs for every case under ../shared/conformance, compared the way Calico's suite does
 * (blank lines ignored, every other character significant). Cases are found by walking the tree
 * for keys.json, so a case added there is tested without touching this file.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PerchError } from "../../src/errors.js";
import { Mirror } from "../../src/mirror/mirror.js";
import { renderResource } from "../../src/render/render.js";
import { conformanceRoot, findCases, goldenProblems, readCase, renderCase, resourcesFor } from "../helpers/conformance.js";
import { Provenance } from "../../src/template/provenance.js";
import { textOf } from "../../src/render/rendered-text.js";

const cases = findCases(conformanceRoot);

describe("Calico v3.16 conformance", () => {
  it("finds the cases", () => {
    // 23 cases upstream at release-v3.16; more may be added, none may vanish unnoticed.
    expect(cases.length).toBeGreaterThanOrEqual(23);
  });

  for (const rel of cases) {
    it(rel, async () => {
      const c = readCase(path.join(conformanceRoot, rel));
      const rendered = await renderCase(c);
      const problems = goldenProblems(c.expectedDir, rendered);
      if (problems.length > 0) expect.fail(`${rel}:\n${problems.join("\n")}`);
    });
  }
});

/** Render one resource of the Calico set from a key set, as node `nodeName`. */
async function renderOne(name: string, nodeName: string, keys: Record<string, string>): Promise<string> {
  const resources = await resourcesFor(nodeName);
  const resource = resources.find((r) => r.name === name);
  if (resource === undefined) throw new Error(`no resource ${name}`);
  const mirror = new Mirror(resources.map((r) => r.selection));
  mirror.replace(
    Object.entries(keys).map(([key, value]) => ({ key, value })),
    1,
  );
  return textOf(renderResource(resource, { view: mirror.view(name), env: { NODENAME: nodeName }, provenance: new Provenance() }));
}

/**
 * A value from etcd must never inject BIRD statements: the formatters reject it and the error
 * names the key it came from (so an operator knows what to fix).
 */
describe("Calico templates reject injected values", () => {
  const base = readCase(path.join(conformanceRoot, "calico-v3.16", "explicit_peering", "global"));
  const poolKey = "/calico/v1/ipam/v4/pool/192.168.0.0-16";
  const peerKey = "/calico/bgp/v1/global/peer_v4/10.192.0.3-150";

  async function renderError(name: string, keys: Record<string, string>): Promise<PerchError> {
    try {
      await renderOne(name, "kube-master", keys);
    } catch (err) {
      expect(err).toBeInstanceOf(PerchError);
      return err as PerchError;
    }
    throw new Error(`${name} rendered despite the injected value`);
  }

  it("a pool cidr that closes the filter and opens a protocol", async () => {
    const pool = JSON.parse(base.keys[poolKey] ?? "null") as Record<string, unknown>;
    pool.cidr = "10.0.0.0/8; } protocol static evil {";
    const err = await renderError("bird_ipam", { ...base.keys, [poolKey]: JSON.stringify(pool) });
    expect(err.message).toContain("invalid IPv4 CIDR");
    // The template sees keys relative to the resource's prefix (/calico).
    expect(err.message).toContain("/v1/ipam/v4/pool/192.168.0.0-16");
    expect(err.context.key).toBe("/v1/ipam/v4/pool/192.168.0.0-16");
  });

  it("a peer as_num that appends a statement", async () => {
    const peer = JSON.parse(base.keys[peerKey] ?? "null") as Record<string, unknown>;
    peer.as_num = "1; import all";
    const err = await renderError("bird", { ...base.keys, [peerKey]: JSON.stringify(peer) });
    expect(err.message).toContain("invalid AS number");
    expect(err.message).toContain("/global/peer_v4/10.192.0.3-150");
    expect(err.context.key).toBe("/global/peer_v4/10.192.0.3-150");
  });

  it("a global as_num that appends a statement", async () => {
    const err = await renderError("bird", { ...base.keys, "/calico/bgp/v1/global/as_num": "1; import all" });
    expect(err.message).toContain("invalid AS number");
    expect(err.context.key).toBe("/global/as_num");
  });

  it("a peer password that closes its string", async () => {
    const peer = JSON.parse(base.keys[peerKey] ?? "null") as Record<string, unknown>;
    peer.password = 'x"; import all; password "y';
    const err = await renderError("bird", { ...base.keys, [peerKey]: JSON.stringify(peer) });
    expect(err.message).toContain("invalid BIRD string");
    expect(err.context.key).toBe("/global/peer_v4/10.192.0.3-150");
  });
});

/** Behaviour the goldens do not pin down, but real Calico clusters produce or depend on. */
describe("Calico semantics beyond the goldens", () => {
  it('a prefix_advertisements family of "null" (what Calico writes for an empty family) tags nothing', async () => {
    const keys = {
      ...readCase(path.join(conformanceRoot, "calico-v3.16", "mesh", "communities")).keys,
      "/calico/bgp/v1/global/prefix_advertisements/ip_v6": "null",
    };
    const bird6 = await renderOne("bird6", "kube-master", keys);
    expect(bird6.startsWith("function apply_communities ()\n{\n}\n")).toBe(true);
    // The IPv4 family still has its list.
    expect(await renderOne("bird", "kube-master", keys)).toContain("bgp_community.add((100, 6532));");
  });


  it("passive on follows Calico's string order of IPs, so exactly one side of a pair is passive", async () => {
    // As strings "10.192.0.10" < "10.192.0.9" (numerically the other way round). confd on the
    // other node compares strings; comparing numbers here would make both sides passive.
    const keys = {
      ...readCase(path.join(conformanceRoot, "calico-v3.16", "mesh", "ipip-always")).keys,
      "/calico/bgp/v1/host/kube-master/ip_addr_v4": "10.192.0.9",
      "/calico/bgp/v1/host/kube-node-1/ip_addr_v4": "10.192.0.10",
    };
    // The protocol's block: from its header to the first closing brace (blocks do not nest).
    const block = (cfg: string, name: string): string => {
      const start = cfg.indexOf(`protocol bgp ${name} `);
      return start < 0 ? "" : cfg.slice(start, cfg.indexOf("}", start) + 1);
    };
    const onMaster = block(await renderOne("bird", "kube-master", keys), "Mesh_10_192_0_10");
    const onNode1 = block(await renderOne("bird", "kube-node-1", keys), "Mesh_10_192_0_9");
    expect(onMaster).toContain("neighbor 10.192.0.10 as");
    expect(onNode1).toContain("neighbor 10.192.0.9 as");
    expect(onMaster).not.toContain("passive on");
    expect(onNode1).toContain("passive on");
  });
});
