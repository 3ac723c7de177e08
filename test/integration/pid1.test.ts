// `perch watch` as PID 1 of a PID namespace (as a container entrypoint is): reload commands that
// leave background jobs behind or time out must not leave zombies under it, because PID 1 is
// where orphans go and Node reaps only its own children.
import { readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { makeConfdir, PERCH, resourceToml, type TestConfdir } from "../helpers/confdir.js";
import { waitFor } from "../helpers/watch-process.js";

let c: TestConfdir;
afterEach(async () => {
  await c?.cleanup();
});

/** Children of `pid` (host PID namespace view) and their states, from /proc. */
async function childrenOf(pid: number): Promise<Array<{ pid: number; state: string; comm: string }>> {
  const out: Array<{ pid: number; state: string; comm: string }> = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const m = /^\d+ \((.*)\) (\S) (\d+)/.exec(stat);
    if (m && Number(m[3]) === pid) out.push({ pid: Number(entry), state: m[2] as string, comm: m[1] as string });
  }
  return out;
}

describe("perch watch as PID 1", () => {
  it("leaves no zombie after reloads with background jobs and a reload that times out", async () => {
    c = await makeConfdir();
    const reloads = path.join(c.dir, "reloads.log");
    await c.writeTemplate("t.hbs", 'v {{getv "/k"}}\n');
    await c.writeResource("bg", resourceToml("t.hbs", path.join(c.out, "bg.cfg"), ["/k"], `reload_cmd = "(sleep 0.2; echo late >> ${reloads}) & echo now >> ${reloads}"`));
    await c.writeResource("slow", resourceToml("t.hbs", path.join(c.out, "slow.cfg"), ["/k"], 'reload_cmd = "sleep 30 & sleep 30"\nreload_timeout = "300ms"'));
    // The worst case of a lost SIGTERM: jobs that ignore it and die only by the hard stop's SIGKILL.
    const deaf = `sh -c \\"trap '' TERM; exec sleep 30\\"`;
    await c.writeResource("deaf", resourceToml("t.hbs", path.join(c.out, "deaf.cfg"), ["/k"], `reload_cmd = "${deaf} & ${deaf}"\nreload_timeout = "300ms"`));
    await c.writeKeys({ "/k": "1" });
    // unshare forks; its child — perch — is PID 1 of the new namespace, with a /proc of its own, as
    // in a container.
    const proc = execa("unshare", ["--pid", "--fork", "--mount-proc", "--kill-child", "node", PERCH, "watch", "--confdir", c.dir, "--backend", "file", "--keys", c.keysFile, "--wait", "10ms:50ms"], {
      reject: false,
      env: { NODENAME: "n1" },
    });
    try {
      const unsharePid = proc.pid as number;
      const perchPid = await waitFor("perch to start under unshare", async () => (await childrenOf(unsharePid)).find((p) => p.comm.startsWith("node"))?.pid);
      await waitFor("the first pass", async () => ((await readFile(path.join(c.out, "bg.cfg"), "utf8").catch(() => "")) === "v 1\n" ? true : undefined));
      for (const v of ["2", "3"]) {
        await writeFile(c.keysFile, JSON.stringify({ "/k": v }));
        await waitFor(`render of ${v}`, async () => ((await readFile(path.join(c.out, "bg.cfg"), "utf8").catch(() => "")) === `v ${v}\n` ? true : undefined));
      }
      // Three passes, each with a backgrounded job and two timed-out reloads (killed, then retried).
      await waitFor("the background jobs to have run", async () => ((await readFile(reloads, "utf8").catch(() => "")).split("late").length - 1 >= 3 ? true : undefined));
      // The deaf reload's hard stops: SIGTERM at 300 ms, SIGKILL 2 s later, retried.
      await new Promise((r) => setTimeout(r, 6000));
      const zombies = (await childrenOf(perchPid)).filter((p) => p.state === "Z");
      expect(zombies).toEqual([]);
    } finally {
      proc.kill("SIGTERM");
      await proc;
    }
  }, 60_000);
});
