// Packaging: the tarball `npm pack` makes installs into an empty directory without building
// (dist/ is inside it; `prepare` does not run for a tarball) and gives a working `perch` that
// renders the bundled example exactly as the working tree does.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, runPerch } from "../helpers/confdir.js";

const INSTALL_TIMEOUT_MS = 180_000;

// The parent `npm test` exports npm_config_* settings (its prefix among them); the child npm must not inherit them.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_")));

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out[path.relative(dir, path.join(entry.parentPath, entry.name))] = await readFile(path.join(entry.parentPath, entry.name), "utf8");
  }
  return out;
}

describe("npm pack → npm install", () => {
  let tmp: string;
  let tarball: string;
  let packed: string[];

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), "perch-package-"));
    // --ignore-scripts: packing runs `prepare` (tsc) otherwise, rewriting dist/ under the tests
    // that run beside this one; `npm test` has built dist/ already.
    const pack = await execa("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], { cwd: REPO, env, extendEnv: false });
    const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(tmp, (info as { filename: string }).filename);
    packed = (info as { files: Array<{ path: string }> }).files.map((f) => f.path);
  }, INSTALL_TIMEOUT_MS);
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("packs the build, the Calico set, the example and the docs, not the sources", () => {
    // The launcher and the program it runs (one CommonJS bundle: commands, execa, chokidar, the etcd store).
    for (const file of ["dist/bundle/perch.js", "dist/bundle/perch.cjs", "templates/bird.cfg.hbs", "conf.d/bird.toml", "examples/keys.json", "examples/conf.d/bird.toml", "docs/templates.md", "docs/deploy.md", "README.md", "package.json"]) {
      expect(packed).toContain(file);
    }
    expect(packed.filter((f) => /^(src|test|bench|scripts)\//.test(f))).toEqual([]);
  });

  it("installs into an empty directory and renders the bundled example", async () => {
    const prefix = path.join(tmp, "install");
    await execa("npm", ["install", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", tarball], { cwd: tmp, env, extendEnv: false });
    const installed = path.join(prefix, "node_modules", "perch");
    const perch = path.join(prefix, "node_modules", ".bin", "perch");
    const version = JSON.parse(await readFile(path.join(REPO, "package.json"), "utf8")) as { version: string };
    expect((await execa(perch, ["--version"], { env, extendEnv: false })).stdout).toBe(`perch ${version.version}`);

    const out = path.join(tmp, "out");
    const examples = path.join(installed, "examples");
    const r = await execa(perch, ["render", "--confdir", examples, "--keys", path.join(examples, "keys.json"), "--node-name", "node-a", "--root", out], { cwd: tmp, reject: false, env, extendEnv: false });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout.match(/^written\s/gm)).toHaveLength(6);

    const reference = path.join(tmp, "reference");
    const fromTree = await runPerch(["render", "--confdir", "examples", "--keys", "examples/keys.json", "--node-name", "node-a", "--root", reference]);
    expect(fromTree.exitCode).toBe(0);
    expect(await tree(out)).toEqual(await tree(reference));

    const check = await execa(perch, ["check", "--confdir", installed], { reject: false, env, extendEnv: false });
    expect(check.exitCode).toBe(0);
    expect(check.stdout).toMatch(/6 resources checked, no problems$/);
  }, INSTALL_TIMEOUT_MS);
});
