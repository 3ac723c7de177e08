// `perch watch` against a real etcd: updates, bursts, outages, compaction behind a cut proxy,
// member fail-over and SIGHUP — each with the daemon as a real child process.
import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeConfdir, resourceToml, type TestConfdir } from "../helpers/confdir.js";
import { startEtcd, startEtcdCluster, type EtcdServer } from "../helpers/etcd-server.js";
import { startTcpProxy } from "../helpers/tcp-proxy.js";
import { startWatch, waitFor, type WatchProcess } from "../helpers/watch-process.js";

let etcd: EtcdServer;
let c: TestConfdir;
let w: WatchProcess | undefined;

beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd.stop();
});
afterEach(async () => {
  await w?.stop();
  w = undefined;
  await c?.cleanup();
});

/** A resource rendering every key under /app as "key=value" lines, reloading by appending to a log. */
async function appConfdir(extra = ""): Promise<{ dest: string; reloadLog: string }> {
  c = await makeConfdir();
  const dest = path.join(c.out, "app.cfg");
  const reloadLog = path.join(c.dir, "reloads.log");
  await c.writeTemplate("app.hbs", "{{#each (gets \"/*\")}}{{key}}={{value}}\n{{/each}}");
  await c.writeTemplate("other.hbs", "other {{getv \"/x\" \"none\"}}\n");
  await c.writeResource("app", resourceToml("app.hbs", dest, ["/"], `prefix = "/app"\nreload_cmd = "echo reload >> ${reloadLog}"\n${extra}`));
  await c.writeResource("other", resourceToml("other.hbs", path.join(c.out, "other.cfg"), ["/other"]));
  return { dest, reloadLog };
}

async function clearPrefix(prefix: string): Promise<void> {
  await etcd.client().delete().prefix(prefix);
}

async function reloadCount(file: string): Promise<number> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).length;
}

describe("perch watch with etcd", () => {
  it("applies a put and a delete; a key no resource reads renders and writes nothing", async () => {
    await clearPrefix("/");
    await etcd.client().put("/app/a").value("1");
    const { dest } = await appConfdir();
    w = await startWatch(["--confdir", c.dir, "--endpoints", etcd.clientUrl, "--wait", "10ms:100ms"]);
    await w.waitForFile(dest, (s) => s === "/a=1\n");
    await etcd.client().put("/app/b").value("2");
    await w.waitForFile(dest, (s) => s === "/a=1\n/b=2\n");
    await etcd.client().delete().key("/app/a");
    await w.waitForFile(dest, (s) => s === "/b=2\n");
    await waitFor("ready", async () => ((await w?.readyz()) === 200 ? true : undefined));
    // The file is in place before its pass is counted: wait for the counters to settle.
    await waitFor("the last pass to be counted", async () => ((await w?.metric("perch_passes_total")) === 3 ? true : undefined));

    const rendersBefore = await w.metric("perch_renders_total");
    const writesBefore = await w.metric("perch_writes_total");
    // Each write's stage fsync is timed on its own.
    expect(writesBefore).toBeGreaterThanOrEqual(3);
    expect(await w.metric("perch_fsync_duration_seconds_count")).toBe(writesBefore);
    const eventsBefore = await w.metric("perch_store_events_total");
    // Outside every watched prefix: etcd does not even send it.
    await etcd.client().put("/unrelated/key").value("x");
    await new Promise((r) => setTimeout(r, 300));
    expect(await w.metric("perch_store_events_total")).toBe(eventsBefore);
    // Inside etcd's byte prefix "/app" but not under the path /app: received, selected out.
    await etcd.client().put("/apple/pie").value("x");
    await waitFor("the /apple event", async () => ((await w?.metric("perch_store_events_total")) === eventsBefore + 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 200));
    expect(await w.metric("perch_renders_total")).toBe(rendersBefore);
    expect(await w.metric("perch_writes_total")).toBe(writesBefore);
    expect(await readFile(dest, "utf8")).toBe("/b=2\n");
  });

  it("coalesces 1,000 puts within one second into at most 3 reloads, ending at the final state", async () => {
    // The claim is about a burst that fits in one second. With the whole suite running beside it, this
    // shared 2-core machine once took 1,056 ms for the puts: such an attempt proves nothing either
    // way, so it is made again (each attempt on fresh keys and a fresh daemon), up to three times.
    const attempts: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      await clearPrefix("/");
      await c?.cleanup();
      const { dest, reloadLog } = await appConfdir();
      // A quiet period of 300 ms, well under the burst: with 100 ms, a 100 ms stall of the machine
      // between two waves made a fourth reload.
      w = await startWatch(["--confdir", c.dir, "--endpoints", etcd.clientUrl, "--wait", "300ms:1s"]);
      await w.waitForFile(dest, (s) => s === "");
      const before = await reloadCount(reloadLog);
      const started = Date.now();
      const client = etcd.client();
      // Four waves of 250 concurrent puts: etcd batches them.
      for (let i = 0; i < 1000; i += 250) {
        await Promise.all(Array.from({ length: 250 }, (_, j) => client.put(`/app/k${String(i + j).padStart(4, "0")}`).value(String(i + j))));
      }
      const burstMs = Date.now() - started;
      const final = await w.waitForFile(dest, (s) => s.split("\n").length === 1001);
      expect(final.split("\n")[999]).toBe("/k0999=999");
      attempts.push(burstMs);
      if (burstMs >= 1000) {
        await w.stop();
        w = undefined;
        continue;
      }
      await new Promise((r) => setTimeout(r, 1200));
      const reloads = (await reloadCount(reloadLog)) - before;
      expect(reloads).toBeGreaterThanOrEqual(1);
      expect(reloads).toBeLessThanOrEqual(3);
      return;
    }
    expect.fail(`no attempt put 1,000 keys within one second (took ${attempts.join(", ")} ms)`);
  });

  it("rides out an etcd outage: last good file stays, not ready while down, converges after", async () => {
    await clearPrefix("/");
    await etcd.client().put("/app/phase").value("before");
    const { dest } = await appConfdir();
    w = await startWatch(["--confdir", c.dir, "--endpoints", etcd.clientUrl, "--wait", "10ms:100ms"]);
    await w.waitForFile(dest, (s) => s === "/phase=before\n");
    await etcd.client().put("/app/phase").value("before-stop");
    await w.waitForFile(dest, (s) => s === "/phase=before-stop\n");

    await etcd.kill();
    await waitFor("/readyz to say not ready", async () => ((await w?.readyz()) === 503 ? true : undefined), 20_000);
    await new Promise((r) => setTimeout(r, 10_000));
    expect(w.exited).toBe(false);
    expect(await readFile(dest, "utf8")).toBe("/phase=before-stop\n");
    expect(await w.readyz()).toBe(503);

    await etcd.restart();
    // Changes made right after the restart, possibly before perch has reconnected.
    await etcd.client().put("/app/phase").value("during");
    await etcd.client().put("/app/extra").value("queued");
    await w.waitForFile(dest, (s) => s === "/extra=queued\n/phase=during\n", 30_000);
    await etcd.client().put("/app/phase").value("after");
    await w.waitForFile(dest, (s) => s === "/extra=queued\n/phase=after\n");
    await waitFor("ready again", async () => ((await w?.readyz()) === 200 ? true : undefined));
    expect(w.exited).toBe(false);
  }, 90_000);

  it("starts while etcd is down: not ready, keeps trying, renders once etcd is up", async () => {
    await clearPrefix("/");
    await etcd.client().put("/app/k").value("late");
    const { dest } = await appConfdir();
    await etcd.kill();
    w = await startWatch(["--confdir", c.dir, "--endpoints", etcd.clientUrl, "--wait", "10ms:100ms"]);
    expect(await w.readyz()).toBe(503);
    await new Promise((r) => setTimeout(r, 1500));
    expect(w.exited).toBe(false);
    await expect(readFile(dest, "utf8")).rejects.toThrow(/ENOENT/);
    await etcd.restart();
    await w.waitForFile(dest, (s) => s === "/k=late\n", 30_000);
    await waitFor("ready", async () => ((await w?.readyz()) === 200 ? true : undefined), 15_000);
  }, 60_000);

  it("recovers from a compaction past its revision while its stream is cut", async () => {
    await clearPrefix("/");
    await etcd.client().put("/app/v").value("0");
    const proxy = await startTcpProxy(etcd.endpoint);
    try {
      const { dest } = await appConfdir();
      w = await startWatch(["--confdir", c.dir, "--endpoints", `http://${proxy.address}`, "--wait", "10ms:100ms"]);
      await w.waitForFile(dest, (s) => s === "/v=0\n");
      proxy.cut();
      await waitFor("not ready while cut", async () => ((await w?.readyz()) === 503 ? true : undefined), 20_000);
      const client = etcd.client();
      for (let i = 1; i <= 20; i++) await client.put("/app/v").value(String(i));
      await client.delete().key("/app/v");
      await client.put("/app/w").value("new");
      const res = await client.put("/app/filler").value("x").exec();
      await client.delete().key("/app/filler");
      // Compact everything up to now: the daemon's resume revision is gone.
      await client.kv.compact({ revision: res.header.revision, physical: true });
      proxy.restore();
      await w.waitForFile(dest, (s) => s === "/w=new\n", 30_000);
      expect(await w.metric("perch_resyncs_total", { reason: "compacted" })).toBeGreaterThanOrEqual(1);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it("SIGHUP with a broken template keeps the old set; SIGHUP after the fix applies it", async () => {
    await clearPrefix("/");
    await etcd.client().put("/app/k").value("v");
    const { dest } = await appConfdir();
    w = await startWatch(["--confdir", c.dir, "--endpoints", etcd.clientUrl, "--wait", "10ms:100ms"]);
    await w.waitForFile(dest, (s) => s === "/k=v\n");
    await c.writeTemplate("app.hbs", "{{#each (gets \"/*\")}}{{nosuchhelper key}}{{/each");
    w.signal("SIGHUP");
    const refused = await w.waitForEvent((e) => e.event === "config-reload" && e.outcome === "refused");
    expect(JSON.stringify(refused.errors)).toContain("app.hbs");
    // The running set still renders.
    await etcd.client().put("/app/k").value("still-old-set");
    await w.waitForFile(dest, (s) => s === "/k=still-old-set\n");

    await c.writeTemplate("app.hbs", "fixed {{#each (gets \"/*\")}}{{key}}={{value}};{{/each}}\n");
    w.signal("SIGHUP");
    await w.waitForFile(dest, (s) => s === "fixed /k=still-old-set;\n");
    await etcd.client().put("/app/k").value("new-set");
    await w.waitForFile(dest, (s) => s === "fixed /k=new-set;\n");
    expect(await w.metric("perch_config_reloads_total", { outcome: "refused" })).toBe(1);
    expect(await w.metric("perch_config_reloads_total", { outcome: "applied" })).toBe(1);
  });

  it("SIGTERM finishes and exits 0", async () => {
    await clearPrefix("/");
    await appConfdir();
    w = await startWatch(["--confdir", c.dir, "--endpoints", etcd.clientUrl]);
    await w.waitForEvent((e) => e.event === "pass");
    const code = await w.stop();
    expect(code).toBe(0);
    w = undefined;
  });
});

describe("perch watch and an unresponsive store", () => {
  it("SIGTERM exits 0 at once, even while a connection attempt hangs", async () => {
    // A server that accepts TCP and never answers: perch's first request waits on it.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      await appConfdir();
      const port = (silent.address() as { port: number }).port;
      w = await startWatch(["--confdir", c.dir, "--endpoints", `http://127.0.0.1:${port}`]);
      await new Promise((r) => setTimeout(r, 500));
      const asked = Date.now();
      const code = await w.stop();
      w = undefined;
      expect(code).toBe(0);
      expect(Date.now() - asked).toBeLessThan(2000);
    } finally {
      silent.close();
    }
  });
});

describe("perch watch with a three-member etcd cluster", () => {
  it("keeps updating when the member it talks to stops", async () => {
    const cluster = await startEtcdCluster(3);
    try {
      await cluster.client().put("/app/m").value("1");
      const { dest } = await appConfdir();
      // The first endpoint is the one the client prefers; stop it after the daemon is streaming.
      w = await startWatch(["--confdir", c.dir, "--endpoints", cluster.endpoints.join(","), "--wait", "10ms:100ms"]);
      await w.waitForFile(dest, (s) => s === "/m=1\n");
      await cluster.members[0]?.stop();
      const survivor = cluster.client();
      await survivor.put("/app/m").value("2");
      await w.waitForFile(dest, (s) => s === "/m=2\n", 30_000);
      expect(w.exited).toBe(false);
    } finally {
      await w?.stop();
      w = undefined;
      await cluster.stop();
    }
  }, 90_000);
});

describe("perch watch with the file store", () => {
  it("re-renders within one second of a template edit, and on a keys file edit", async () => {
    c = await makeConfdir();
    const dest = path.join(c.out, "f.cfg");
    await c.writeTemplate("f.hbs", "v1 {{getv \"/k\"}}\n");
    await c.writeResource("f", resourceToml("f.hbs", dest, ["/k"]));
    await c.writeKeys({ "/k": "a" });
    w = await startWatch(["--confdir", c.dir, "--backend", "file", "--keys", c.keysFile]);
    await w.waitForFile(dest, (s) => s === "v1 a\n");
    const edited = Date.now();
    await c.writeTemplate("f.hbs", "v2 {{getv \"/k\"}}\n");
    await w.waitForFile(dest, (s) => s === "v2 a\n", 5_000);
    expect(Date.now() - edited).toBeLessThan(1000);
    await c.writeKeys({ "/k": "b" });
    await w.waitForFile(dest, (s) => s === "v2 b\n", 5_000);
    await writeFile(c.keysFile, "{ not json");
    await w.waitForEvent((e) => e.event === "store" && e.state === "disconnected");
    expect(await readFile(dest, "utf8")).toBe("v2 b\n");
  });
});
