// Issue 19, item 10: the shipped bird.cfg reads node_mesh through `json`. A node_mesh that is not a
// JSON object (42, [1,2], "str") rendered bird.cfg with the mesh silently off; confd's json is an
// error for those, and so is perch's: the render fails naming the key, and bird.cfg is not written.
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, runPerch } from "../helpers/confdir.js";
import { useTempDir } from "../helpers/temp-dir.js";

const tmp = useTempDir("perch-json-");

async function renderBird(nodeMesh: string): Promise<{ exitCode: number | undefined; stdout: string; birdCfg: string | undefined }> {
  const keys = JSON.parse(await readFile(path.join(REPO, "examples/keys.json"), "utf8")) as Record<string, string>;
  keys["/calico/bgp/v1/global/node_mesh"] = nodeMesh;
  const keysFile = path.join(tmp.path, "keys.json");
  await writeFile(keysFile, JSON.stringify(keys));
  const out = path.join(tmp.path, "out");
  const r = await runPerch(["render", "--confdir", "examples", "--backend", "file", "--keys", keysFile, "--node-name", "node-a", "--root", out, "--only", "bird"]);
  const dest = path.join(out, "etc/calico/confd/config/bird.cfg");
  return { exitCode: r.exitCode, stdout: r.stdout, birdCfg: existsSync(dest) ? await readFile(dest, "utf8") : undefined };
}

describe("json of node_mesh in the shipped bird.cfg", () => {
  it.each([
    ["42", "a number"],
    ["[1,2]", "an array: use jsonArray for an array"],
    ['"str"', "a string"],
  ])("%s fails the render naming the key; bird.cfg is not written", async (nodeMesh, what) => {
    const r = await renderBird(nodeMesh);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^render-failed\s+bird\s/m);
    expect(r.stdout).toContain(`json: expected a JSON object, got ${JSON.stringify(nodeMesh)} (from key /global/node_mesh): ${what}`);
    expect(r.birdCfg).toBeUndefined();
  });

  it("null is confd's nil map: the mesh is off, no error", async () => {
    const r = await renderBird("null");
    expect(r.exitCode).toBe(0);
    expect(r.birdCfg).toContain("# Node-to-node mesh disabled");
  });

  it("an object renders the mesh", async () => {
    const r = await renderBird('{"enabled":true}');
    expect(r.exitCode).toBe(0);
    expect(r.birdCfg).toMatch(/protocol bgp Mesh_/);
  });
});
