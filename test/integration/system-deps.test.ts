/**
 * `npm test`'s first step, scripts/ensure-system-deps.mjs, on a machine without BIRD: run in a
 * private mount namespace with an empty tmpfs over /usr/sbin (where Debian puts bird, bird6 and
 * birdc; `ip` stays reachable as /bin/ip), so the real system is untouched. As an unprivileged
 * user it must name the missing package and fail; as root it must ask apt-get for exactly that
 * package — a stand-in apt-get first on PATH records the calls, so nothing is installed here.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SCRIPT = path.resolve(import.meta.dirname, "../../scripts/ensure-system-deps.mjs");
const NOBODY = "65534";

if (process.getuid?.() !== 0) {
  throw new Error(`the system-deps test must run as root: it hides /usr/sbin in a mount namespace of its own (running as uid ${String(process.getuid?.())})`);
}

/** Runs `argv` in a new mount namespace in which /usr/sbin is an empty tmpfs. */
function withoutSbin(argv: string[], env: Record<string, string> = {}) {
  return execa("unshare", ["--mount", "--propagation", "private", "sh", "-c", 'mount -t tmpfs perch-test /usr/sbin && exec "$@"', "sh", ...argv], {
    reject: false,
    env: { ...process.env, ...env },
    extendEnv: false,
  });
}

describe("ensure-system-deps without BIRD installed", () => {
  let dir: string;
  let fakeBin: string;
  let calls: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "perch-sysdeps-"));
    fakeBin = path.join(dir, "bin");
    calls = path.join(dir, "apt-calls");
    await mkdir(fakeBin);
    // Records its arguments; fails the install step when APT_FAIL is set.
    await writeFile(
      path.join(fakeBin, "apt-get"),
      `#!/bin/sh\necho "$*" >> ${calls}\nif [ "$1" = install ] && [ -n "$APT_FAIL" ]; then echo "E: Unable to locate package" >&2; exit 100; fi\nexit 0\n`,
    );
    await chmod(path.join(fakeBin, "apt-get"), 0o755);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("names the missing package and fails when not root", async () => {
    const r = await withoutSbin(["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", process.execPath, SCRIPT]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe("perch tests need these Debian packages: bird\n  install them: sudo apt-get install -y bird");
  });

  it("installs the missing package with apt-get when root", async () => {
    await rm(calls, { force: true });
    const r = await withoutSbin([process.execPath, SCRIPT], { PATH: `${fakeBin}:${process.env.PATH ?? ""}` });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain("installing bird (apt-get) for the integration tests");
    expect((await readFile(calls, "utf8")).trim().split("\n")).toEqual(["update -qq", "install -y -qq --no-install-recommends bird"]);
  });

  it("says how to install by hand when apt-get fails", async () => {
    await rm(calls, { force: true });
    const r = await withoutSbin([process.execPath, SCRIPT], { PATH: `${fakeBin}:${process.env.PATH ?? ""}`, APT_FAIL: "1" });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("could not install bird; install them by hand: apt-get install -y bird");
  });

  it("does nothing on this machine, where everything is installed", async () => {
    await rm(calls, { force: true });
    const r = await execa(process.execPath, [SCRIPT], { reject: false, env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH ?? ""}` } });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe("");
    await expect(readFile(calls, "utf8")).rejects.toThrow(/ENOENT/);
  });
});
