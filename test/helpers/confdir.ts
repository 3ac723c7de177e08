// Throwaway confdirs for tests: conf.d resources, templates and a keys file in a temp directory,
// and a way to run the built `perch` binary against them.
import { cp, mkdtemp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { beforeEach } from "vitest";
import { useTempDir } from "./temp-dir.js";

export const REPO = path.resolve(import.meta.dirname, "../..");
// The shipped CLI: the launcher of the esbuild bundle (scripts/bundle.mjs).
export const PERCH = path.join(REPO, "dist/bundle/perch.js");

export interface TestConfdir {
  dir: string;
  out: string;
  keysFile: string;
  writeResource(name: string, toml: string): Promise<void>;
  writeTemplate(name: string, source: string): Promise<void>;
  writeKeys(keys: Record<string, string>): Promise<void>;
  cleanup(): Promise<void>;
}

export async function makeConfdir(): Promise<TestConfdir> {
  const dir = await mkdtemp(path.join(tmpdir(), "perch-test-"));
  await layOut(dir);
  return confdirAt(() => dir);
}

/** A fresh confdir for each test, removed after it; call it as useTempDir is called. */
export function useConfdir(): TestConfdir {
  const root = useTempDir("perch-test-");
  beforeEach(() => layOut(root.path));
  return confdirAt(() => root.path);
}

async function layOut(dir: string): Promise<void> {
  await Promise.all([mkdir(path.join(dir, "conf.d")), mkdir(path.join(dir, "templates")), mkdir(path.join(dir, "out"))]);
}

/** The confdir at `root()`, read when used: useConfdir's changes with each test. */
function confdirAt(root: () => string): TestConfdir {
  return {
    get dir() {
      return root();
    },
    get out() {
      return path.join(root(), "out");
    },
    get keysFile() {
      return path.join(root(), "keys.json");
    },
    writeResource: (name, toml) => writeFile(path.join(root(), "conf.d", `${name}.toml`), toml),
    writeTemplate: (name, source) => writeFile(path.join(root(), "templates", name), source),
    writeKeys: (keys) => writeFile(path.join(root(), "keys.json"), `${JSON.stringify(keys, null, 2)}\n`),
    cleanup: () => rm(root(), { recursive: true, force: true }),
  };
}

/** A resource file body; `extra` is appended inside [template]. */
export function resourceToml(src: string, dest: string, keys: string[], extra = ""): string {
  return `[template]\nsrc = ${JSON.stringify(src)}\ndest = ${JSON.stringify(dest)}\nkeys = ${JSON.stringify(keys)}\n${extra}\n`;
}

export function runPerch(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ResultPromise<{ reject: false; all: true; env: NodeJS.ProcessEnv; cwd: string }> {
  return execa("node", [PERCH, ...args], { reject: false, all: true, env: { NODENAME: "", ...opts.env }, cwd: opts.cwd ?? REPO });
}

/** A copy of the shipped Calico set (conf.d and templates) in `dir`, each resource file passed through `rewrite`. */
export async function copyCalicoSet(dir: string, rewrite: (toml: string, name: string) => string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await cp(path.join(REPO, "templates"), path.join(dir, "templates"), { recursive: true });
  await cp(path.join(REPO, "conf.d"), path.join(dir, "conf.d"), { recursive: true });
  for (const name of await readdir(path.join(dir, "conf.d"))) {
    const file = path.join(dir, "conf.d", name);
    await writeFile(file, rewrite(await readFile(file, "utf8"), name));
  }
  return dir;
}

/**
 * The Calico set whose IPv4 resources reload one node's BIRD through its control socket
 * (calico/node's `sv hup bird` has no runit in a test); no bird6 runs, so the IPv6 ones reload nothing.
 */
export function birdcReloadingCalicoSet(dir: string, ctl: string): Promise<string> {
  return copyCalicoSet(dir, (toml, name) => {
    const rewritten = toml
      .replace(/^reload_cmd = "sv hup bird"$/m, `reload_cmd = "/usr/sbin/birdc -s ${ctl} configure"`)
      .replace(/^reload_cmd = "sv hup bird6"$/m, 'reload_cmd = "true"');
    if (/^reload_cmd = "sv /m.test(rewritten)) throw new Error(`${name}: a shipped reload_cmd was not rewritten`);
    return rewritten;
  });
}
