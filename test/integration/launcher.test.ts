// The shipped launcher (dist/bundle/perch.js) and its V8 code cache: written at the first run's
// exit into PERCH_CACHE_DIR, reused as is, replaced when V8 rejects it, grown by the first run of each
// new kind (a render from another store or conf.d), one per set of V8 flags (perch watch's own), never used
// from a directory others can write, and off for an empty PERCH_CACHE_DIR — the command's output the same in
// every case.
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daemonV8Flags } from "../../src/cli/v8-flags.js";
import { REPO, runPerch } from "../helpers/confdir.js";
import { startWatch } from "../helpers/watch-process.js";

const EXAMPLE = ["render", "--confdir", path.join(REPO, "examples"), "--backend", "file", "--keys", path.join(REPO, "examples", "keys.json"), "--node-name", "node-a", "--noop"];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "perch-launcher-"));
  // --noop writes nothing, so the example's destination directory must exist under --root.
  await mkdir(path.join(dir, "root", "etc", "calico", "confd", "config"), { recursive: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function codeCaches(cacheDir: string): Promise<string[]> {
  return (await readdir(cacheDir).catch(() => [])).filter((n) => n.endsWith(".v8cache"));
}

async function render(cacheDir: string) {
  const r = await runPerch([...EXAMPLE, "--root", path.join(dir, "root")], { env: { PERCH_CACHE_DIR: cacheDir } });
  expect(r.exitCode).toBe(0);
  return r.stdout;
}

describe("the V8 code cache", () => {
  it("is written by the first run, reused unchanged by the next, and replaced when V8 rejects it", async () => {
    const cacheDir = path.join(dir, "cache");
    const first = await render(cacheDir);
    expect(first).toContain("would-write");
    const [name] = await codeCaches(cacheDir);
    expect(name).toMatch(/^code-v\d+\.\d+\.\d+-\w+-\d+-\d+\.v8cache$/);
    const file = path.join(cacheDir, name as string);
    const written = await stat(file);
    expect(written.size).toBeGreaterThan(100_000);
    expect((written.mode & 0o777).toString(8)).toBe("600");

    expect(await render(cacheDir)).toBe(first);
    expect((await stat(file)).mtimeMs).toBe(written.mtimeMs);

    // A valid header over garbage: V8 refuses the data, the run still works and writes a good cache again.
    // Garbage without the header is no cache at all: the same.
    for (const garbage of [Buffer.concat([Buffer.from("perch-code-cache 1 []\n"), Buffer.alloc(written.size, 7)]), Buffer.alloc(written.size, 7)]) {
      await writeFile(file, garbage);
      expect(await render(cacheDir)).toBe(first);
      const rewritten = await readFile(file);
      expect(rewritten.equals(garbage)).toBe(false);
      expect(rewritten.subarray(0, 19).toString()).toBe("perch-code-cache 1 ");
      expect(await codeCaches(cacheDir)).toEqual([name]);
    }
  });

  it("adds the functions of each new kind of run once: a --version first leaves no cache without the render's", async () => {
    const cacheDir = path.join(dir, "kinds");
    const version = await runPerch(["--version"], { env: { PERCH_CACHE_DIR: cacheDir } });
    expect(version.exitCode).toBe(0);
    const [name] = await codeCaches(cacheDir);
    const file = path.join(cacheDir, name as string);
    const header = async () => (await readFile(file)).subarray(0, 200).toString("latin1").split("\n")[0];
    expect(await header()).toBe("perch-code-cache 1 []");
    const afterVersion = await stat(file);

    const first = await render(cacheDir);
    const afterRender = await stat(file);
    expect(await header()).toBe(`perch-code-cache 1 ${JSON.stringify([`render file ${path.join(REPO, "examples")}`])}`);
    // What --version compiled, and the render's own functions besides.
    expect(afterRender.size).toBeGreaterThan(afterVersion.size + 100_000);

    // The same kind again: the cache is used as it is.
    expect(await render(cacheDir)).toBe(first);
    expect((await stat(file)).mtimeMs).toBe(afterRender.mtimeMs);

    // A render from another conf.d is a new kind: added to the same file, after the first.
    const other = await mkdtemp(path.join(dir, "confdir-"));
    await mkdir(path.join(other, "conf.d"));
    for (const toml of await readdir(path.join(REPO, "examples", "conf.d"))) {
      const text = await readFile(path.join(REPO, "examples", "conf.d", toml), "utf8");
      await writeFile(path.join(other, "conf.d", toml), text.replace('"../../templates/', JSON.stringify(`${path.join(REPO, "templates")}/`).slice(0, -1)));
    }
    const r = await runPerch([...EXAMPLE.map((a) => (a === path.join(REPO, "examples") ? other : a)), "--root", path.join(dir, "root")], { env: { PERCH_CACHE_DIR: cacheDir } });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(first);
    expect(await codeCaches(cacheDir)).toEqual([name]);
    expect(await header()).toBe(`perch-code-cache 1 ${JSON.stringify([`render file ${path.join(REPO, "examples")}`, `render file ${other}`])}`);
  });

  it("is one per set of V8 flags: perch watch sets its flags before the program is compiled, so a daemon starts from its cache too", async () => {
    const cacheDir = path.join(dir, "daemon");
    const watchOnce = async () => {
      const w = await startWatch(EXAMPLE.slice(1).concat("--root", path.join(dir, "root")), { PERCH_CACHE_DIR: cacheDir });
      await w.waitForEvent((e) => e.event === "pass");
      expect(await w.stop()).toBe(0);
    };
    await watchOnce();
    const suffix = daemonV8Flags([]).map((f) => `+${f.slice(2)}`).join("");
    const name = (await codeCaches(cacheDir))[0] as string;
    expect(name).toMatch(/^code-v\d+\.\d+\.\d+-\w+-\d+-\d+\+/);
    expect(name.endsWith(`${suffix}.v8cache`)).toBe(true);
    const file = path.join(cacheDir, name);
    const written = await stat(file);
    // V8 took the data the first daemon wrote: the second writes nothing (a rejected cache is rewritten at exit).
    await watchOnce();
    expect((await stat(file)).mtimeMs).toBe(written.mtimeMs);
    // A one-shot has its own, beside the daemon's, which stays as it was.
    await render(cacheDir);
    expect((await codeCaches(cacheDir)).sort()).toEqual([name.slice(0, -suffix.length - ".v8cache".length) + ".v8cache", name].sort());
    expect((await stat(file)).mtimeMs).toBe(written.mtimeMs);
  });

  it("keeps only the newest few code caches: each build has its own, of about half a megabyte", async () => {
    const cacheDir = path.join(dir, "many");
    await mkdir(cacheDir, { mode: 0o700 });
    // Six caches of older builds, a day apart, and a template spec (another kind of entry).
    const stale = Array.from({ length: 6 }, (_, i) => `code-v0.0.${i}-x64-1-1.v8cache`);
    for (const [i, name] of stale.entries()) {
      await writeFile(path.join(cacheDir, name), "old", { mode: 0o600 });
      const day = new Date(Date.now() - (10 - i) * 86_400_000);
      await utimes(path.join(cacheDir, name), day, day);
    }
    await writeFile(path.join(cacheDir, "spec.js"), "spec", { mode: 0o600 });
    await render(cacheDir);
    const kept = await codeCaches(cacheDir);
    expect(kept).toHaveLength(2);
    expect(kept).toContain(stale[5]);
    expect(kept.find((n) => !stale.includes(n))).toMatch(/^code-v\d+\.\d+\.\d+-\w+-\d+-\d+\.v8cache$/);
    expect(await readdir(cacheDir)).toContain("spec.js");
  });

  it("is neither read nor written in a directory others can write, nor with PERCH_CACHE_DIR empty", async () => {
    const open = path.join(dir, "open");
    await mkdir(open);
    await chmod(open, 0o777);
    const reference = await render(path.join(dir, "reference"));
    expect(await render(open)).toBe(reference);
    expect(await codeCaches(open)).toEqual([]);
    expect(await render("")).toBe(reference);
  });
});

describe("the bundle's start-up", () => {
  it("runs no ES module and loads none of the built-ins only pino's transports need", async () => {
    // scripts/bundle.mjs: a CommonJS launcher, and pino's transport, worker_threads and sonic-boom's
    // assert replaced. A preload prints the built-in modules Node loaded by the time perch exits.
    const preload = path.join(dir, "modules.cjs");
    await writeFile(preload, 'process.on("exit", () => process.stderr.write("MODULES " + JSON.stringify(process.moduleLoadList) + "\\n"));\n');
    const r = await runPerch([...EXAMPLE, "--root", path.join(dir, "root")], { env: { NODE_OPTIONS: `--require ${preload}` } });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("would-write");
    const line = r.stderr.split("\n").find((l) => l.startsWith("MODULES "));
    const loaded = JSON.parse((line ?? "MODULES []").slice("MODULES ".length)) as string[];
    expect(loaded).toContain("NativeModule internal/modules/cjs/loader");
    expect(loaded.filter((m) => /^NativeModule (worker_threads|assert|internal\/modules\/esm\/(translators|module_job))$/.test(m))).toEqual([]);
  });
});
