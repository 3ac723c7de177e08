// issue 19: `perch watch` started while etcd is down keeps retrying with or without --listen (item
// 2), and after an auth-enabled etcd restarts the next change is applied as soon as without auth
// (item 9).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeConfdir, PERCH, REPO, resourceToml, type TestConfdir } from "../helpers/confdir.js";
import { startEtcd, type EtcdServer } from "../helpers/etcd-server.js";
import { freePort, startWatch, type WatchProcess } from "../helpers/watch-process.js";

const PASSWORD = "restart-pa55";
let c: TestConfdir;
let w: WatchProcess | undefined;

beforeAll(async () => {
  c = await makeConfdir();
  await c.writeTemplate("t.hbs", '{{getv "/k" "none"}}\n');
  await c.writeResource("t", resourceToml("t.hbs", path.join(c.out, "t.txt"), ["/k"], `prefix = "/app"`));
});
afterAll(() => c.cleanup());
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

describe("perch watch started while etcd is down (issue 19, item 2)", () => {
  it("without --listen keeps running and retrying, and exits 0 only on SIGTERM", async () => {
    const port = await freePort();
    const proc = execa("node", [PERCH, "watch", "--confdir", c.dir, "--endpoints", `http://127.0.0.1:${port}`, "--log-level", "debug"], { cwd: REPO, reject: false, env: { NODENAME: "" }, stdin: "ignore" });
    let exited = false;
    void proc.then(() => (exited = true));
    let out = "";
    proc.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
    await new Promise((r) => setTimeout(r, 4000));
    expect(exited).toBe(false);
    const retries = out.split("\n").filter((l) => l.includes('"state":"unavailable"'));
    expect(retries.length).toBeGreaterThanOrEqual(3);
    proc.kill("SIGTERM");
    const result = await proc;
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('"signal":"SIGTERM"');
  }, 30_000);
});

describe("an auth-enabled etcd restarting (issue 19, item 9)", () => {
  let etcd: EtcdServer;
  beforeAll(async () => {
    etcd = await startEtcd({ auth: { user: "root", password: PASSWORD } });
  });
  afterAll(() => etcd?.stop());

  it("applies the first change within 5 s of etcd being back, restart after restart", async () => {
    await etcd.client().put("/app/k").value("v0");
    const dest = path.join(c.out, "t.txt");
    w = await startWatch(["--confdir", c.dir, "--endpoints", etcd.clientUrl, "--wait", "10ms:50ms"], { ETCD_USERNAME: "root", ETCD_PASSWORD: PASSWORD });
    await w.waitForFile(dest, (s) => s === "v0\n");
    const lags: number[] = [];
    // A graceful restart, then crashes with outages long enough for etcd3's per-host circuit breaker
    // (open after 3 failures, half-open 5 s later) to be half-open when etcd is back: its trial call
    // renewing the auth token waited on itself until the 15 s setup guard.
    const outagesMs = [0, 5000, 6000, 7000];
    for (const [n, outageMs] of outagesMs.entries()) {
      const i = n + 1;
      if (outageMs > 0) {
        await etcd.kill();
        await new Promise((r) => setTimeout(r, outageMs));
      }
      await etcd.restart();
      const back = Date.now();
      await etcd.client().put("/app/k").value(`v${i}`);
      await w.waitForFile(dest, (s) => s === `v${i}\n`, 30_000);
      lags.push(Date.now() - back);
    }
    expect(lags.every((ms) => ms <= 5000), `ms from etcd back to the change applied: ${lags.join(", ")}`).toBe(true);
    expect(await readFile(dest, "utf8")).toBe(`v${outagesMs.length}\n`);
  }, 180_000);
});
