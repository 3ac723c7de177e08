// Calico's conformance cases (../shared/conformance): finding them, reading them, and rendering
// one with the shipped conf.d/templates straight from its keys (no files written).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createTwoFilesPatch } from "diff";
import path from "node:path";
import { Mirror } from "../../src/mirror/mirror.js";
import { renderResource } from "../../src/render/render.js";
import { loadResourceSet, type LoadedResource } from "../../src/resource/load-set.js";
import { REPO } from "./confdir.js";
import { Provenance } from "../../src/template/provenance.js";
import { textOf } from "../../src/render/rendered-text.js";

export const conformanceRoot = path.resolve(REPO, "..", "shared", "conformance");

/** Every directory under `root` holding `marker` (a keys.json), as paths relative to `root`, sorted. */
export function findCases(root: string, marker = "keys.json"): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && e.name === marker)) found.push(path.relative(root, dir));
    // A case may hold further cases (mesh/communities/step2), so keep walking below it.
    for (const e of entries) if (e.isDirectory() && e.name !== "expected") walk(path.join(dir, e.name));
  };
  walk(root);
  return found.sort();
}

export interface Case {
  env: Record<string, string>;
  keys: Record<string, string>;
  expectedDir: string;
}

export function readCase(dir: string): Case {
  const env = JSON.parse(readFileSync(path.join(dir, "env.json"), "utf8")) as Record<string, string>;
  const keys = JSON.parse(readFileSync(path.join(dir, "keys.json"), "utf8")) as Record<string, string>;
  return { env, keys, expectedDir: path.join(dir, "expected") };
}

/** Resources depend on the node name (//NODENAME in keys), so load once per name. */
const loaded = new Map<string, Promise<LoadedResource[]>>();
export function resourcesFor(nodeName: string): Promise<LoadedResource[]> {
  let set = loaded.get(nodeName);
  if (set === undefined) {
    set = loadResourceSet({ confdir: REPO, nodeName });
    loaded.set(nodeName, set);
  }
  return set;
}

/** Render every resource of a case: file name (basename of dest) → content. */
export async function renderCase(c: Pick<Case, "env" | "keys">): Promise<Map<string, string>> {
  const nodeName = c.env.NODENAME;
  if (nodeName === undefined) throw new Error("env.json has no NODENAME");
  const resources = await resourcesFor(nodeName);
  const mirror = new Mirror(resources.map((r) => r.selection));
  mirror.replace(
    Object.entries(c.keys).map(([key, value]) => ({ key, value })),
    1,
  );
  const out = new Map<string, string>();
  for (const r of resources) {
    // Only the case's variables: CALICO_ROUTER_ID stays unset unless the case lists it.
    out.set(path.basename(r.dest), textOf(renderResource(r, { view: mirror.view(r.name), env: { ...c.env }, provenance: new Provenance() })));
  }
  return out;
}

/** Calico's comparison: entirely blank lines do not count; everything else does. */
function significantLines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

function compare(name: string, actual: string, expected: string): string | undefined {
  const a = significantLines(actual);
  const e = significantLines(expected);
  if (a.length === e.length && a.every((line, i) => line === e[i])) return undefined;
  const patch = createTwoFilesPatch(`expected/${name}`, `rendered/${name}`, `${e.join("\n")}\n`, `${a.join("\n")}\n`, "", "", {
    context: 3,
  });
  return `${name} differs (blank lines ignored):\n${patch}`;
}

/** Every way `rendered` (file name → content) differs from the golden files in `expectedDir`; none: []. */
export function goldenProblems(expectedDir: string, rendered: ReadonlyMap<string, string>): string[] {
  const expectedNames = existsSync(expectedDir) ? readdirSync(expectedDir).sort() : [];
  if (expectedNames.length === 0) return [`${expectedDir} holds no golden files`];
  const problems: string[] = [];
  for (const name of expectedNames) {
    const actual = rendered.get(name);
    if (actual === undefined) {
      problems.push(`${name}: no resource renders it`);
      continue;
    }
    const diff = compare(name, actual, readFileSync(path.join(expectedDir, name), "utf8"));
    if (diff !== undefined) problems.push(diff);
  }
  for (const name of rendered.keys()) {
    if (!expectedNames.includes(name)) problems.push(`${name}: rendered, but the case has no expected/${name}`);
  }
  return problems;
}
