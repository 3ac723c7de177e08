/**
 * Every Calico conformance case, rendered by the shipped templates, must be a configuration a
 * real BIRD 1.6 accepts: `bird -p -c bird.cfg` and `bird6 -p -c bird6.cfg`, which also parse the
 * included _aggr and _ipam files. Cases are found by walking ../shared/conformance for keys.json.
 */
import { execFile } from "node:child_process";
import { accessSync, constants as fsConstants, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { conformanceRoot, findCases, readCase, renderCase } from "../helpers/conformance.js";

const run = promisify(execFile);

/** A BIRD binary on PATH or in /usr/sbin (not on every user's PATH); undefined when absent. */
function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    if (dir === "") continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // Not here; try the next directory.
    }
  }
  return undefined;
}

function requireBinary(name: string): string {
  const found = findBinary(name);
  if (found === undefined) {
    throw new Error(`${name} is not installed: these tests need BIRD 1.6 (Debian package "bird": apt-get install bird)`);
  }
  return found;
}

/**
 * Stock BIRD 1.6 has no `krt_tunnel` route attribute: it exists only in Calico's BIRD fork and
 * stock BIRD rejects it ("You may set only variables"). For the IPv4 ipam file only, each
 * `krt_tunnel = "<dev>";` becomes `print "krt_tunnel", "<dev>";` — a statement stock BIRD knows,
 * so the surrounding if/else still has to parse. BIRD has no empty statement, and a comment would
 * leave `then … else` without a body.
 */
function withoutKrtTunnel(birdIpam: string): string {
  return birdIpam.replace(/krt_tunnel = ("[^"\n]*");/g, 'print "krt_tunnel", $1;');
}

async function renderInto(caseDir: string, outDir: string): Promise<string[]> {
  const rendered = await renderCase(readCase(caseDir));
  for (const [name, text] of rendered) {
    await writeFile(path.join(outDir, name), name === "bird_ipam.cfg" ? withoutKrtTunnel(text) : text);
  }
  return [...rendered.keys()].sort();
}

/** Run a BIRD parse in `dir` (so relative includes resolve); the failure shows BIRD's own words. */
async function parse(binary: string, dir: string, file: string): Promise<void> {
  try {
    await run(binary, ["-p", "-c", path.join(dir, file)], { cwd: dir, timeout: 30_000 });
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string; code?: number | string };
    const text = readFileSync(path.join(dir, file), "utf8");
    expect.fail(`${path.basename(binary)} -p -c ${file} failed (exit ${String(e.code)}):\n${e.stderr ?? ""}${e.stdout ?? ""}\n--- ${file} ---\n${text}`);
  }
}

const cases = findCases(conformanceRoot);
const scratch: string[] = [];

describe("rendered Calico configs parse with stock BIRD 1.6 (krt_tunnel stood in for in bird_ipam.cfg)", () => {
  afterAll(async () => {
    await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it("finds BIRD and the cases", () => {
    requireBinary("bird");
    requireBinary("bird6");
    expect(cases.length).toBeGreaterThanOrEqual(23);
  });

  for (const rel of cases) {
    it(`${rel}: bird -p and bird6 -p accept it (krt_tunnel replaced for stock BIRD)`, async () => {
      const bird = requireBinary("bird");
      const bird6 = requireBinary("bird6");
      const dir = await mkdtemp(path.join(tmpdir(), "perch-bird-parse-"));
      scratch.push(dir);
      const names = await renderInto(path.join(conformanceRoot, rel), dir);
      expect(names).toEqual(["bird.cfg", "bird6.cfg", "bird6_aggr.cfg", "bird6_ipam.cfg", "bird_aggr.cfg", "bird_ipam.cfg"]);
      await parse(bird, dir, "bird.cfg");
      await parse(bird6, dir, "bird6.cfg");
    });
  }

  it("the krt_tunnel stand-in is needed, and only for it: stock BIRD rejects the real statement", async () => {
    // Guards the substitution above: if stock BIRD ever accepted krt_tunnel, it should go.
    const bird = requireBinary("bird");
    const dir = await mkdtemp(path.join(tmpdir(), "perch-bird-parse-"));
    scratch.push(dir);
    await renderInto(path.join(conformanceRoot, "calico-v3.16", "mesh", "ipip-always"), dir);
    const ipam = readFileSync(path.join(dir, "bird_ipam.cfg"), "utf8");
    await writeFile(path.join(dir, "bird_ipam.cfg"), ipam.replace(/print "krt_tunnel", ("[^"\n]*");/g, "krt_tunnel = $1;"));
    const result = await run(bird, ["-p", "-c", path.join(dir, "bird.cfg")], { cwd: dir, timeout: 30_000 }).then(
      () => "accepted",
      (err: Error & { stderr?: string }) => err.stderr ?? "rejected",
    );
    expect(result).toContain("You may set only variables");
  });
});
