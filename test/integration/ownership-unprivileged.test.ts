// Issue 19, item 11: a perch that is not root, replacing a root-owned file (a migration from a root
// confd) with uid/gid unset in conf.d. It cannot keep the owner, so it installs the file as its own
// with one warning naming the file; an owner set in conf.d that it cannot set is still an error.
// Run as root, perch is started as nobody (65534) with setpriv (util-linux).
import { chmod, chown, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { beforeEach, describe, expect, it, type TestContext } from "vitest";
import { PERCH, REPO, resourceToml, useConfdir } from "../helpers/confdir.js";

const NOBODY = 65534;
const c = useConfdir();

beforeEach(async () => {
  await c.writeTemplate("app.hbs", 'value {{getv "/v"}}\n');
  await c.writeKeys({ "/v": "new" });
  // nobody reads the confdir and writes the destination directory, nothing else.
  await chmod(c.dir, 0o755);
  await chown(c.out, NOBODY, NOBODY);
});

function renderAsNobody(ctx: TestContext) {
  if (process.getuid?.() !== 0) ctx.skip("needs root, to start perch as another user");
  const args = [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", process.execPath, PERCH, "render", "--confdir", c.dir, "--backend", "file", "--keys", c.keysFile];
  return execa("setpriv", args, { reject: false, cwd: REPO, env: { PATH: process.env.PATH, NODENAME: "", PERCH_CACHE_DIR: "" } });
}

describe("perch as an unprivileged user and a root-owned destination", () => {
  it("uid/gid unset: installs the file as perch's user with one warning naming it, not a failed write", async (ctx) => {
    const dest = path.join(c.out, "app.cfg");
    await writeFile(dest, "value old\n", { mode: 0o644 });
    await c.writeResource("app", resourceToml("app.hbs", dest, ["/v"]));

    const r = await renderAsNobody(ctx);
    expect(r.stdout).toBe(`written       app              ${dest}`);
    expect(r.exitCode).toBe(0);
    const warnings = r.stderr.split("\n").filter((line) => line.includes("cannot keep the owner"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`${dest}: cannot keep the owner 0:0 (EPERM: operation not permitted): installed owned by ${NOBODY}:${NOBODY}`);
    const st = await stat(dest);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([NOBODY, NOBODY, 0o644]);
    expect(await readFile(dest, "utf8")).toBe("value new\n");

    // Its own file now: nothing to warn about, nothing to write.
    const again = await renderAsNobody(ctx);
    expect(again.stdout).toBe(`unchanged     app              ${dest}`);
    expect(again.stderr).not.toContain("cannot keep the owner");
  });

  it("uid set in conf.d and not settable: an error, as before, and the old file stays", async (ctx) => {
    const dest = path.join(c.out, "app.cfg");
    await writeFile(dest, "value old\n");
    await c.writeResource("app", resourceToml("app.hbs", dest, ["/v"], "uid = 0"));
    const r = await renderAsNobody(ctx);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe(`failed        app              ${dest}\n    cannot write ${dest}: EPERM: operation not permitted (setting owner 0:${NOBODY})`);
    expect(r.stderr).not.toContain("cannot keep the owner");
    expect(await readFile(dest, "utf8")).toBe("value old\n");
  });
});
