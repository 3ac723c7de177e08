import { execFile } from "node:child_process";
import { chmod, chown, lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, utimes, writeFile as fsWriteFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { beforeEach, describe, expect, it, type TestContext } from "vitest";
import { lookAtDestination } from "../../src/write/destination.js";
import { writeFile, type WritePolicy, type WriteResult } from "../../src/write/write-file.js";
import { useTempDir } from "../helpers/temp-dir.js";

const run = promisify(execFile);
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

const tmp = useTempDir("perch-write-");
/** Outside the test's directory: what a check reports, a symlink's target. */
const elsewhere = useTempDir("perch-elsewhere-");
let dir: string;
let dest: string;
beforeEach(() => {
  dir = tmp.path;
  dest = path.join(dir, "bird.cfg");
});

function policy(overrides: Partial<WritePolicy> = {}): WritePolicy {
  return { checkTimeoutMs: 5_000, noop: false, ...overrides };
}

/** The result with its old content as bytes (`previous` holds text or bytes), to compare byte for byte. */
function withPreviousBytes(result: WriteResult): Omit<WriteResult, "previous"> & { previous: Buffer | null } {
  return { ...result, previous: result.previous === null ? null : Buffer.from(result.previous.bytes()) };
}

async function stageFiles(where = dir): Promise<string[]> {
  return (await readdir(where)).filter((name) => name.includes(".perch-stage-")).sort();
}

async function modeOf(file: string): Promise<number> {
  return (await stat(file)).mode & 0o7777;
}

/** An existing destination whose mtime is far in the past, so any rewrite would show. */
async function existing(content: string, mode = 0o644): Promise<{ mtimeMs: number; ino: number }> {
  await fsWriteFile(dest, content);
  await chmod(dest, mode);
  await utimes(dest, new Date("2001-02-03T04:05:06Z"), new Date("2001-02-03T04:05:06Z"));
  const st = await stat(dest);
  return { mtimeMs: st.mtimeMs, ino: st.ino };
}

async function untouched(before: { mtimeMs: number; ino: number }): Promise<void> {
  const st = await stat(dest);
  expect({ mtimeMs: st.mtimeMs, ino: st.ino }).toEqual(before);
}

/**
 * Runs `fn` as the unprivileged user `nobody`. Root bypasses permission checks, so a read-only
 * directory only refuses writes to someone else. Only the effective ids change (seteuid), so they
 * can be restored; glibc applies them to every thread, including libuv's fs pool. The vitest
 * "forks" pool runs each file in its own process, so nothing else runs as nobody meanwhile.
 */
async function asNobody<T>(fn: () => Promise<T>): Promise<T> {
  if (!isRoot) return fn();
  if (process.seteuid === undefined || process.setegid === undefined) throw new Error("seteuid is POSIX-only");
  process.setegid(NOBODY);
  process.seteuid(NOBODY);
  try {
    return await fn();
  } finally {
    process.seteuid(0);
    process.setegid(0);
  }
}

/** A directory `nobody` owns (when we are root), inside the per-test dir it can traverse. */
async function nobodysDirectory(mode: number): Promise<string> {
  const sub = path.join(dir, "sub");
  await mkdir(sub);
  if (isRoot) {
    await chmod(dir, 0o755);
    await chown(sub, NOBODY, NOBODY);
  }
  await chmod(sub, mode);
  return sub;
}

/** Runs `fn` on a 1 MiB tmpfs that `nobody` owns; skips without CAP_SYS_ADMIN (needed to mount it). */
async function onFullFilesystem(ctx: TestContext, fn: (dir: string) => Promise<void>): Promise<void> {
  const full = await nobodysDirectory(0o755);
  try {
    await run("mount", ["-t", "tmpfs", "-o", `size=1m,mode=755,uid=${NOBODY}`, "tmpfs", full]);
  } catch {
    ctx.skip("tmpfs mounts need CAP_SYS_ADMIN");
  }
  try {
    await fn(full);
  } finally {
    await run("umount", [full]);
  }
}

describe("writeFile", () => {
  it("writes a new file with mode 0644 and the current user by default", async () => {
    const r = await writeFile("router id 10.0.0.1;\n", dest, policy());
    expect(r).toMatchObject({ action: "written", changed: true, previous: null });
    expect(r.error).toBeUndefined();
    expect(r.inPlace).toBeUndefined();
    expect(await readFile(dest, "utf8")).toBe("router id 10.0.0.1;\n");
    const st = await stat(dest);
    expect(st.mode & 0o7777).toBe(0o644);
    expect(st.uid).toBe(process.getuid?.());
    expect(await stageFiles()).toEqual([]);
  });

  it("accepts bytes", async () => {
    const bytes = new Uint8Array([0, 1, 2, 255]);
    expect((await writeFile(bytes, dest, policy())).action).toBe("written");
    expect(new Uint8Array(await readFile(dest))).toEqual(bytes);
  });

  it("applies the policy's mode, and otherwise keeps the existing file's", async () => {
    await writeFile("a\n", dest, policy({ mode: 0o640 }));
    expect(await modeOf(dest)).toBe(0o640);
    await chmod(dest, 0o600);
    expect(withPreviousBytes(await writeFile("b\n", dest, policy()))).toMatchObject({ action: "written", previous: Buffer.from("a\n") });
    expect(await modeOf(dest)).toBe(0o600);
  });

  it("gives the file its mode whatever the umask takes from a new stage file", async () => {
    const umask = process.umask(0o077);
    try {
      await writeFile("a\n", dest, policy({ mode: 0o644 }));
      expect(await modeOf(dest)).toBe(0o644);
      await writeFile("b\n", dest, policy({ mode: 0o2755 }));
      expect(await modeOf(dest)).toBe(0o2755);
    } finally {
      process.umask(umask);
    }
  });

  it("leaves an identical file alone: unchanged, same inode and mtime", async () => {
    const before = await existing("same\n", 0o640);
    const r = await writeFile("same\n", dest, policy({ mode: 0o640 }));
    expect(withPreviousBytes(r)).toMatchObject({ action: "unchanged", changed: false, previous: Buffer.from("same\n") });
    await untouched(before);
  });

  it("frees the file it replaced once the new one is in place: no descriptor on it stays open", async () => {
    await existing("old\n");
    const openOnOld = async (): Promise<string[]> => {
      const links = await Promise.all((await readdir("/proc/self/fd")).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => "")));
      return links.filter((link) => link === `${dest} (deleted)`);
    };
    expect(withPreviousBytes(await writeFile("new\n", dest, policy()))).toMatchObject({ action: "written", previous: Buffer.from("old\n") });
    expect(await readFile(dest, "utf8")).toBe("new\n");
    // The descriptor held across the rename is closed on the thread pool, after the install returns.
    for (let i = 0; i < 50 && (await openOnOld()).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await openOnOld()).toEqual([]);
  });

  describe("after its own install, compared without reading the file", () => {
    it("still sees a change made in place since (other size; same size with a new mtime)", async () => {
      expect((await writeFile("first\n", dest, policy())).action).toBe("written");
      await fsWriteFile(dest, "edited by hand\n");
      expect(withPreviousBytes(await writeFile("first\n", dest, policy()))).toMatchObject({ action: "written", previous: Buffer.from("edited by hand\n") });
      // Same size: the in-place write changes mtime and ctime (set apart here, so a coarse clock cannot hide it).
      await fsWriteFile(dest, "FIRST\n");
      await utimes(dest, new Date("2001-02-03T04:05:06Z"), new Date("2001-02-03T04:05:06Z"));
      expect(withPreviousBytes(await writeFile("first\n", dest, policy()))).toMatchObject({ action: "written", previous: Buffer.from("FIRST\n") });
      expect(await readFile(dest, "utf8")).toBe("first\n");
    });

    it("still sees the file replaced by another one of the same size", async () => {
      await writeFile("first\n", dest, policy());
      const other = path.join(dir, "other");
      await fsWriteFile(other, "FIRST\n");
      await rename(other, dest);
      expect(withPreviousBytes(await writeFile("first\n", dest, policy()))).toMatchObject({ action: "written", previous: Buffer.from("FIRST\n") });
    });

    it("reports an unchanged render as unchanged, with its own bytes as the old content", async () => {
      await writeFile("first\n", dest, policy());
      const { ino, mtimeMs } = await stat(dest);
      expect(withPreviousBytes(await writeFile("first\n", dest, policy()))).toMatchObject({ action: "unchanged", previous: Buffer.from("first\n") });
      await untouched({ ino, mtimeMs });
    });
  });

  describe("with a look at the destination taken earlier (lookAtDestination, while the content renders)", () => {
    it("compares with what the look saw, and reads nothing more", async () => {
      await existing("same\n");
      const look = lookAtDestination(dest);
      await look;
      // Gone after the look: a writer that looked again would find no file and write one.
      await rm(dest);
      expect(withPreviousBytes(await writeFile("same\n", dest, policy(), { look }))).toMatchObject({ action: "unchanged", previous: Buffer.from("same\n") });
      await expect(stat(dest)).rejects.toThrow("ENOENT");
    });

    it("replaces a file that changed after the look when the new content differs from what it saw", async () => {
      await existing("old\n");
      const look = lookAtDestination(dest);
      await look;
      await fsWriteFile(dest, "edited meanwhile\n");
      expect(withPreviousBytes(await writeFile("new\n", dest, policy(), { look }))).toMatchObject({ action: "written", previous: Buffer.from("old\n") });
      expect(await readFile(dest, "utf8")).toBe("new\n");
    });

    it("reports the look's failure as the writer's own, and an unawaited failed look is no unhandled rejection", async () => {
      await mkdir(dest);
      const look = lookAtDestination(dest);
      expect(await writeFile("x\n", dest, policy(), { look })).toMatchObject({ action: "failed", error: `cannot write ${dest}: it is a directory, not a regular file` });
      const blocked = path.join(dir, "not-a-dir");
      await fsWriteFile(blocked, "");
      const failing = lookAtDestination(path.join(blocked, "bird.cfg"));
      await new Promise((resolve) => setTimeout(resolve, 20));
      await expect(failing).rejects.toThrow("ENOTDIR");
    });
  });

  it("rewrites a file whose mode alone differs", async () => {
    await existing("same\n", 0o644);
    const r = await writeFile("same\n", dest, policy({ mode: 0o600 }));
    expect(withPreviousBytes(r)).toMatchObject({ action: "written", changed: true, previous: Buffer.from("same\n") });
    expect(await modeOf(dest)).toBe(0o600);
  });

  it.runIf(isRoot)("rewrites a file whose owner alone differs", async () => {
    await existing("same\n");
    const r = await writeFile("same\n", dest, policy({ uid: NOBODY, gid: NOBODY }));
    expect(r.action).toBe("written");
    expect(await stat(dest)).toMatchObject({ uid: NOBODY, gid: NOBODY });
    expect((await writeFile("same\n", dest, policy({ uid: NOBODY, gid: NOBODY }))).action).toBe("unchanged");
  });

  it("noop reports would-write and touches nothing", async () => {
    const before = await existing("old\n");
    const r = await writeFile("new\n", dest, policy({ noop: true, mode: 0o600 }));
    expect(withPreviousBytes(r)).toMatchObject({ action: "would-write", changed: true, previous: Buffer.from("old\n") });
    await untouched(before);
    expect(await readFile(dest, "utf8")).toBe("old\n");
    expect(await modeOf(dest)).toBe(0o644);
    expect(await stageFiles()).toEqual([]);

    const other = path.join(dir, "other.cfg");
    expect(await writeFile("new\n", other, policy({ noop: true }))).toMatchObject({ action: "would-write", previous: null });
    await expect(stat(other)).rejects.toThrow("ENOENT");
  });

  it("installs the file when check_cmd accepts it", async () => {
    const r1 = await writeFile("protocol device {}\n", dest, policy({ checkCmd: "test -s {{.src}}" }));
    expect(r1).toMatchObject({ action: "written", check: { ok: true, exitCode: 0 } });
    const r2 = await writeFile("protocol kernel {}\n", dest, policy({ checkCmd: "grep -q kernel {{src}}" }));
    expect(withPreviousBytes(r2)).toMatchObject({ action: "written", previous: Buffer.from("protocol device {}\n"), check: { ok: true } });
    expect(await readFile(dest, "utf8")).toBe("protocol kernel {}\n");
  });

  it("times the stage file's fsync on its own: part of a write, beside a check, absent when nothing was written", async () => {
    const plain = await writeFile("a\n", dest, policy());
    expect(plain.fsyncMs).toBeGreaterThanOrEqual(0);
    expect(plain.fsyncMs).toBeLessThanOrEqual(plain.durationMs);
    expect((await writeFile("a\n", dest, policy())).fsyncMs).toBeUndefined();
    // The fsync runs while the check sleeps: its own time, not the wait for the check.
    const checked = await writeFile("b\n", dest, policy({ checkCmd: "sleep 0.3" }));
    expect(checked.action).toBe("written");
    expect(checked.fsyncMs).toBeGreaterThanOrEqual(0);
    expect(checked.fsyncMs).toBeLessThan(250);
    expect(checked.durationMs).toBeGreaterThanOrEqual(300);
  });

  it("lets check_cmd execute the staged file itself (no descriptor open for writing: no ETXTBSY)", async () => {
    const r = await writeFile('#!/bin/sh\necho "checked $0"\n', dest, policy({ mode: 0o755, checkCmd: "{{.src}}" }));
    expect(r).toMatchObject({ action: "written", check: { ok: true } });
    expect(r.check?.output).toMatch(/^checked .*\.bird\.cfg\.perch-stage-/);
  });

  it("keeps the old file byte-identical when check_cmd rejects the new one", async () => {
    const before = await existing("good config\n");
    const checkCmd = 'grep -q good {{.src}} || { echo "syntax error in {{.src}}"; exit 1; }';
    const r = await writeFile("bad config\n", dest, policy({ checkCmd }));
    expect(withPreviousBytes(r)).toMatchObject({
      action: "check-failed",
      changed: true,
      previous: Buffer.from("good config\n"),
      error: `check_cmd failed for ${dest}: exit status 1`,
      check: { ok: false, exitCode: 1 },
    });
    expect(r.check?.output).toMatch(new RegExp(`^syntax error in ${dir}/\\.bird\\.cfg\\.perch-stage-${process.pid}-[0-9a-f]+\\n$`));
    expect(await readFile(dest, "utf8")).toBe("good config\n");
    await untouched(before);
    expect(await stageFiles()).toEqual([]);
  });

  it("fails the check when check_cmd times out", async () => {
    const r = await writeFile("x\n", dest, policy({ checkCmd: "sleep 10", checkTimeoutMs: 200 }));
    expect(r).toMatchObject({ action: "check-failed", error: `check_cmd failed for ${dest}: timed out after 200 ms` });
    expect(r.check?.timedOut).toBe(true);
    await expect(stat(dest)).rejects.toThrow("ENOENT");
    expect(await stageFiles()).toEqual([]);
  });

  it("checks the complete stage file, with its final mode, beside the destination and from its directory", async () => {
    const out = path.join(elsewhere.path, "seen");
    const checkCmd = `{ dirname {{.src}}; pwd; stat -c %a {{.src}}; cat {{.src}}; } > ${out}`;
    expect((await writeFile("include \"bird_ipam.cfg\";\n", dest, policy({ mode: 0o640, checkCmd }))).action).toBe("written");
    expect(await readFile(out, "utf8")).toBe(`${dir}\n${dir}\n640\ninclude "bird_ipam.cfg";\n`);
  });

  it("names every stage file anew, in the form a later run's cleanup recognises", async () => {
    const seen = new Set<string>();
    for (const content of ["1\n", "2\n", "3\n"]) {
      const r = await writeFile(content, dest, policy({ checkCmd: "echo {{.src}}" }));
      const stage = path.basename(r.check?.output.trim() ?? "");
      expect(stage).toMatch(new RegExp(`^\\.bird\\.cfg\\.perch-stage-${process.pid}-[0-9a-f]+$`));
      seen.add(stage);
    }
    expect(seen.size).toBe(3);
  });

  it("removes stale stage files of this destination, and only those", async () => {
    const stale = [".bird.cfg.perch-stage-999999-abcdef", ".bird.cfg.perch-stage-1-0a"];
    const foreign = [".bird.cfg.perch-stage-notours", ".bird6.cfg.perch-stage-1-ab"];
    for (const name of [...stale, ...foreign]) await fsWriteFile(path.join(dir, name), "partial");
    expect((await writeFile("x\n", dest, policy())).action).toBe("written");
    expect(await stageFiles()).toEqual([...foreign].sort());
  });

  it("keeps a copy of the stage file when asked, after a write and after a failed check", async () => {
    expect((await writeFile("first\n", dest, policy({ keepStageFile: true }))).action).toBe("written");
    const [kept] = await stageFiles();
    expect(await stageFiles()).toHaveLength(1);
    expect(await readFile(path.join(dir, kept ?? ""), "utf8")).toBe("first\n");

    const r = await writeFile("second\n", dest, policy({ keepStageFile: true, checkCmd: "false" }));
    expect(r.action).toBe("check-failed");
    const after = await stageFiles();
    // The next write cleans the previous one's leftovers: only the rejected candidate remains.
    expect(after).toHaveLength(1);
    expect(after).not.toContain(kept);
    expect(await readFile(path.join(dir, after[0] ?? ""), "utf8")).toBe("second\n");
    expect(await readFile(dest, "utf8")).toBe("first\n");
  });

  it("replaces a symlink at the destination with a regular file, leaving its target alone", async () => {
    const target = path.join(elsewhere.path, "real.cfg");
    await fsWriteFile(target, "target content\n");
    await symlink(target, dest);
    const r = await writeFile("new content\n", dest, policy());
    expect(withPreviousBytes(r)).toMatchObject({ action: "written", previous: Buffer.from("target content\n") });
    expect((await lstat(dest)).isFile()).toBe(true);
    expect(await readFile(dest, "utf8")).toBe("new content\n");
    expect(await readFile(target, "utf8")).toBe("target content\n");
  });

  it("replaces a dangling symlink too", async () => {
    await symlink(path.join(dir, "nowhere"), dest);
    expect(await writeFile("x\n", dest, policy())).toMatchObject({ action: "written", previous: null });
    expect((await lstat(dest)).isFile()).toBe(true);
    await expect(stat(path.join(dir, "nowhere"))).rejects.toThrow("ENOENT");
  });

  it("fails without creating anything when the directory is missing", async () => {
    const missing = path.join(dir, "etc", "bird");
    const target = path.join(missing, "bird.cfg");
    const r = await writeFile("x\n", target, policy());
    expect(r).toMatchObject({ action: "failed", previous: null, error: `cannot write ${target}: directory ${missing} does not exist` });
    expect(await readdir(dir)).toEqual([]);
  });

  it("fails when the destination is a directory", async () => {
    await mkdir(dest);
    expect(await writeFile("x\n", dest, policy())).toMatchObject({
      action: "failed",
      changed: false,
      error: `cannot write ${dest}: it is a directory, not a regular file`,
    });
  });

  it("fails with the errno when the directory is read-only", async () => {
    const sub = await nobodysDirectory(0o555);
    const target = path.join(sub, "bird.cfg");
    const r = await asNobody(() => writeFile("x\n", target, policy()));
    expect(r).toMatchObject({
      action: "failed",
      changed: true,
      error: `cannot write ${target}: EACCES: permission denied (creating the stage file)`,
    });
    expect(await readdir(sub)).toEqual([]);
  });

  it("works unprivileged: creates and replaces its own files without chown", async () => {
    const sub = await nobodysDirectory(0o755);
    const target = path.join(sub, "bird.cfg");
    const first = await asNobody(() => writeFile("one\n", target, policy()));
    const second = await asNobody(() => writeFile("two\n", target, policy({ mode: 0o600 })));
    expect([first.action, second.action]).toEqual(["written", "written"]);
    expect(await stat(target)).toMatchObject({ uid: process.geteuid?.() === 0 ? NOBODY : process.geteuid?.() });
    expect(await modeOf(target)).toBe(0o600);
    expect(await stageFiles(sub)).toEqual([]);
  });

  it("keeps setuid and setgid bits, which a write by an unprivileged user would clear", async () => {
    const sub = await nobodysDirectory(0o755);
    const target = path.join(sub, "helper");
    // Large, so that the write would still be running when a chmod started at the same time ends.
    const content = `#!/bin/sh\n${"#".repeat(4 << 20)}\n`;
    for (const mode of [0o4755, 0o2750, 0o6755]) {
      const r = await asNobody(() => writeFile(`${content}${mode.toString(8)}\n`, target, policy({ mode })));
      expect(r.action).toBe("written");
      expect(await modeOf(target)).toBe(mode);
    }
  });

  it("fails with the errno when the owner cannot be set, the destination untouched", async () => {
    const sub = await nobodysDirectory(0o755);
    const target = path.join(sub, "bird.cfg");
    await fsWriteFile(target, "old\n");
    const owner = isRoot ? 0 : NOBODY;
    const r = await asNobody(() => writeFile("new\n", target, policy({ uid: owner, gid: owner })));
    expect(withPreviousBytes(r)).toMatchObject({
      action: "failed",
      changed: true,
      previous: Buffer.from("old\n"),
      error: `cannot write ${target}: EPERM: operation not permitted (setting owner ${owner}:${owner})`,
    });
    expect(await readFile(target, "utf8")).toBe("old\n");
    expect(await stageFiles(sub)).toEqual([]);
  });

  it("fails writing on a full filesystem (ENOSPC), leaving the old file and no stage file", async (ctx) => {
    await onFullFilesystem(ctx, async (full) => {
      const target = path.join(full, "bird.cfg");
      await fsWriteFile(target, "old\n");
      await chmod(target, 0o644);
      const r = await writeFile("x".repeat(2 << 20), target, policy({ mode: 0o600 }));
      expect(r).toMatchObject({ action: "failed", error: `cannot write ${target}: ENOSPC: no space left on device (writing)` });
      expect(await readFile(target, "utf8")).toBe("old\n");
      expect(await modeOf(target)).toBe(0o644);
      expect(await stageFiles(full)).toEqual([]);
    });
  });

  it.runIf(isRoot)("reports the write's failure when setting the owner, meanwhile, failed too", async (ctx) => {
    await onFullFilesystem(ctx, async (full) => {
      const target = path.join(full, "bird.cfg");
      // Both steps fail, at once, the write last (its first 1 MiB goes in): the error is still the
      // write's, the step that comes first.
      for (let i = 0; i < 5; i++) {
        const r = await asNobody(() => writeFile("x".repeat(2 << 20), target, policy({ uid: 0, gid: 0 })));
        expect(r).toMatchObject({ action: "failed", error: `cannot write ${target}: ENOSPC: no space left on device (writing)` });
      }
      expect(await stageFiles(full)).toEqual([]);
    });
  });

  it("writes in place when the destination is a bind-mounted file (EBUSY)", async (ctx) => {
    const source = path.join(dir, "mounted-source");
    await fsWriteFile(source, "old\n");
    await fsWriteFile(dest, "");
    try {
      await run("mount", ["--bind", source, dest]);
    } catch {
      ctx.skip("bind mounts need CAP_SYS_ADMIN");
    }
    try {
      const r = await writeFile("new\n", dest, policy({ mode: 0o600 }));
      expect(withPreviousBytes(r)).toMatchObject({ action: "written", inPlace: true, previous: Buffer.from("old\n") });
      expect(await readFile(dest, "utf8")).toBe("new\n");
      expect(await readFile(source, "utf8")).toBe("new\n");
      expect(await modeOf(source)).toBe(0o600);
      expect(await stageFiles()).toEqual([]);
    } finally {
      await run("umount", [dest]);
    }
  });
});
