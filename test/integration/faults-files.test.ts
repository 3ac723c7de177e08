// Faults at the destination, met by `perch watch` (file store, a real child process) and `perch
// render`: a missing directory, a read-only filesystem, a full one (small tmpfs mounts), a
// bind-mounted single file, a symlink, and stage files a crashed run left behind. The daemon keeps
// running, the last good file stays, the error names the file and the errno, and (but for the
// bind-mounted file, which can only be written in place) no reader ever sees a partial file.
import { execFile } from "node:child_process";
import { lstat, mkdir, open, readdir, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it, type TestContext } from "vitest";
import { resourceToml, runPerch, useConfdir } from "../helpers/confdir.js";
import { startWatch, waitFor, type WatchProcess } from "../helpers/watch-process.js";

const run = promisify(execFile);
type Event = Record<string, unknown>;

const c = useConfdir();
let w: WatchProcess | undefined;
const mounts: string[] = [];

beforeEach(async () => {
  await c.writeTemplate("app.hbs", 'value {{getv "/v"}}\n');
});
afterEach(async () => {
  await w?.stop();
  w = undefined;
  for (const dir of mounts.splice(0).reverse()) {
    await run("umount", [dir]).catch(() => run("umount", ["-l", dir]));
  }
});

/** A tmpfs (or bind) mount under the test's temp dir, unmounted after the test; skips without CAP_SYS_ADMIN. */
async function mount(ctx: TestContext, args: string[], target: string): Promise<void> {
  try {
    await run("mount", [...args, target]);
  } catch (err) {
    ctx.skip(`mount needs CAP_SYS_ADMIN: ${(err as Error).message}`);
  }
  mounts.push(target);
}

async function watchApp(dest: string): Promise<WatchProcess> {
  await c.writeResource("app", resourceToml("app.hbs", dest, ["/v"]));
  w = await startWatch(["--confdir", c.dir, "--backend", "file", "--keys", c.keysFile, "--wait", "10ms:50ms"]);
  return w;
}

const isEvent = (fields: Event) => (e: Event) => Object.entries(fields).every(([k, v]) => e[k] === v);

/** The next failed write of `app` after the `after`-th event, as the daemon logged it. */
async function nextWriteFailure(after: number): Promise<Event | undefined> {
  return w?.waitForEvent((e) => (w?.events.indexOf(e) ?? 0) >= after && isEvent({ event: "write", outcome: "failed", resource: "app" })(e));
}

/**
 * Reads `file` as fast as it can until stopped and collects every content that is not one of
 * `allowed` (a reader seeing a partial file) — or a missing file, once it existed.
 */
function readerOf(file: string, allowed: readonly string[]): { stop(): Promise<string[]> } {
  const seen = new Set<string>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const content = await readFile(file, "utf8").catch(() => "<missing>");
      if (!allowed.includes(content)) seen.add(content.length > 60 ? `${content.slice(0, 60)}… (${content.length} chars)` : content);
      await new Promise((r) => setImmediate(r));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return [...seen];
    },
  };
}

async function stageFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.includes(".perch-stage-"));
}

/** Fills the filesystem holding `dir` with one file, to ENOSPC. */
async function fill(dir: string): Promise<string> {
  const filler = path.join(dir, "filler");
  const handle = await open(filler, "w");
  try {
    const chunk = Buffer.alloc(4096, 0x61);
    for (;;) await handle.write(chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    await handle.close();
  }
  return filler;
}

describe("perch watch and a destination it cannot write", () => {
  it("a missing directory: the error names it; once it exists the next change is written", async () => {
    const dir = path.join(c.dir, "etc", "bird");
    const dest = path.join(dir, "app.cfg");
    await c.writeKeys({ "/v": "1" });
    await watchApp(dest);
    const failed = await nextWriteFailure(0);
    expect(failed).toMatchObject({ level: "error", dest, err: `cannot write ${dest}: directory ${dir} does not exist` });
    // Counted when the pass ends, just after the event.
    await waitFor("the failure counted", async () => ((await w?.metric("perch_renders_total", { resource: "app", outcome: "failed" })) === 1 ? true : undefined));

    await mkdir(dir, { recursive: true });
    await c.writeKeys({ "/v": "2" });
    await w?.waitForFile(dest, (s) => s === "value 2\n");
    expect(w?.exited).toBe(false);
  });

  it("a read-only filesystem: EROFS, the last good file stays; writable again, the next change goes in", async (ctx) => {
    const dir = path.join(c.dir, "ro");
    const dest = path.join(dir, "app.cfg");
    await mkdir(dir);
    await mount(ctx, ["-t", "tmpfs", "-o", "size=1m", "tmpfs"], dir);
    await c.writeKeys({ "/v": "good" });
    await watchApp(dest);
    await w?.waitForFile(dest, (s) => s === "value good\n");

    await run("mount", ["-o", "remount,ro", dir]);
    const reader = readerOf(dest, ["value good\n"]);
    const before = w?.events.length ?? 0;
    await c.writeKeys({ "/v": "lost" });
    const failed = await nextWriteFailure(before);
    expect(failed).toMatchObject({ dest, err: `cannot write ${dest}: EROFS: read-only file system (creating the stage file)` });
    expect(await reader.stop()).toEqual([]);

    await run("mount", ["-o", "remount,rw", dir]);
    await c.writeKeys({ "/v": "back" });
    await w?.waitForFile(dest, (s) => s === "value back\n");
    expect(await stageFiles(dir)).toEqual([]);
  });

  it("a full filesystem: ENOSPC, no partial file, no stage file left; with room again the next change goes in", async (ctx) => {
    const dir = path.join(c.dir, "full");
    const dest = path.join(dir, "app.cfg");
    await mkdir(dir);
    await mount(ctx, ["-t", "tmpfs", "-o", "size=64k", "tmpfs"], dir);
    await c.writeKeys({ "/v": "good" });
    await watchApp(dest);
    await w?.waitForFile(dest, (s) => s === "value good\n");

    const filler = await fill(dir);
    const big = "x".repeat(40_000);
    const reader = readerOf(dest, ["value good\n"]);
    const before = w?.events.length ?? 0;
    await c.writeKeys({ "/v": big });
    const failed = await nextWriteFailure(before);
    expect(failed).toMatchObject({ dest, err: `cannot write ${dest}: ENOSPC: no space left on device (writing)` });
    expect(await reader.stop()).toEqual([]);
    expect(await stageFiles(dir)).toEqual([]);

    await rm(filler);
    await c.writeKeys({ "/v": `${big}!` });
    await w?.waitForFile(dest, (s) => s === `value ${big}!\n`);
    expect(await stageFiles(dir)).toEqual([]);
    expect(w?.exited).toBe(false);
  });

  it("a bind-mounted single file (rename fails with EBUSY) is written in place, change after change", async (ctx) => {
    const source = path.join(c.dir, "bird.cfg.host");
    const dest = path.join(c.out, "app.cfg");
    await writeFile(source, "from the host\n");
    await writeFile(dest, "");
    await mount(ctx, ["--bind", source], dest);
    await c.writeKeys({ "/v": "1" });
    await watchApp(dest);
    await w?.waitForFile(dest, (s) => s === "value 1\n");
    // The content is visible before the write is logged: wait for the event.
    expect(await w?.waitForEvent(isEvent({ event: "write", outcome: "written", resource: "app" }))).toMatchObject({ inPlace: true });
    await c.writeKeys({ "/v": "2" });
    await w?.waitForFile(dest, (s) => s === "value 2\n");
    // The host's file is the one that changed; nothing is left beside the mount point (the stage
    // file goes just after the in-place write).
    expect(await readFile(source, "utf8")).toBe("value 2\n");
    await waitFor("the stage file to go", async () => ((await stageFiles(c.out)).length === 0 ? true : undefined), 5_000);
  });
});

describe("an in-place write on a full filesystem (issue 19)", () => {
  it("a bind-mounted destination on a full tmpfs keeps its old content, and the error says so", async (ctx) => {
    const fs = path.join(c.dir, "small");
    await mkdir(fs);
    await mount(ctx, ["-t", "tmpfs", "-o", "size=64k", "tmpfs"], fs);
    const source = path.join(fs, "bird.cfg.host");
    const old = `old ${"o".repeat(3000)}\n`;
    await writeFile(source, old);
    const dest = path.join(c.out, "app.cfg");
    await writeFile(dest, "");
    await mount(ctx, ["--bind", source], dest);
    await fill(fs);
    await c.writeResource("app", resourceToml("app.hbs", dest, ["/v"]));
    await c.writeKeys({ "/v": "n".repeat(40_000) });

    const r = await runPerch(["render", "--confdir", c.dir, "--backend", "file", "--keys", c.keysFile]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe(
      `failed        app              ${dest}\n    cannot write ${dest}: ENOSPC: no space left on device (securing the room for the in-place write); the destination still holds its old content`,
    );
    expect(await readFile(dest, "utf8")).toBe(old);
    expect(await readFile(source, "utf8")).toBe(old);
    expect(await stageFiles(c.out)).toEqual([]);
  });
});

describe("perch render and what it finds at the destination", () => {
  function render() {
    return runPerch(["render", "--confdir", c.dir, "--backend", "file", "--keys", c.keysFile]);
  }

  it("a symlink is replaced by a regular file, its target left alone — even when the target has the new content", async () => {
    const elsewhere = path.join(c.dir, "elsewhere");
    await mkdir(elsewhere);
    const target = path.join(elsewhere, "target.cfg");
    const same = path.join(elsewhere, "same.cfg");
    await writeFile(target, "the target\n");
    await writeFile(same, "value v\n");
    const dest = path.join(c.out, "app.cfg");
    const dest2 = path.join(c.out, "app2.cfg");
    await symlink(target, dest);
    await symlink(same, dest2);
    await c.writeResource("app", resourceToml("app.hbs", dest, ["/v"]));
    await c.writeResource("app2", resourceToml("app.hbs", dest2, ["/v"]));
    await c.writeKeys({ "/v": "v" });

    const r = await render();
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split("\n")).toEqual([`written       app              ${dest}`, `written       app2             ${dest2}`]);
    for (const d of [dest, dest2]) {
      expect((await lstat(d)).isFile()).toBe(true);
      expect(await readFile(d, "utf8")).toBe("value v\n");
    }
    expect(await readFile(target, "utf8")).toBe("the target\n");
    expect(await readFile(same, "utf8")).toBe("value v\n");
    await expect(readlink(dest)).rejects.toThrow(/EINVAL/);
    const again = await render();
    expect(again.stdout.split("\n")).toEqual([`unchanged     app              ${dest}`, `unchanged     app2             ${dest2}`]);
  });

  it("removes the stage files a crashed run left, at start, even when the destination is up to date", async () => {
    const dest = path.join(c.out, "app.cfg");
    await c.writeResource("app", resourceToml("app.hbs", dest, ["/v"]));
    await c.writeKeys({ "/v": "v" });
    expect((await render()).exitCode).toBe(0);
    const crashed = [".app.cfg.perch-stage-4242-0a1b2c3d4e5f", ".app.cfg.perch-stage-17-ff"];
    // Not perch's: another destination's, and a name perch never makes.
    const others = [".other.cfg.perch-stage-4242-0a1b2c3d4e5f", ".app.cfg.perch-stage-mine"];
    for (const name of [...crashed, ...others]) await writeFile(path.join(c.out, name), "half a fi");

    const r = await render();
    expect(r.stdout).toBe(`unchanged     app              ${dest}`);
    expect((await stageFiles(c.out)).sort()).toEqual([...others].sort());
    expect(await readFile(dest, "utf8")).toBe("value v\n");
  });
});
