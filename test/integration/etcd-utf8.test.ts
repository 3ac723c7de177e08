// issue 19, item 7: etcd keys and values are bytes; perch's are strings. Keys that are not UTF-8
// used to be decoded with replacement characters, so node-\xff and node-\xfe became one key
// (node-\uFFFD) and, after one was deleted, the daemon's file differed from a fresh render. Now a
// key or value that is not UTF-8 is left out and named (the key in hex), alike in the daemon's
// listing and stream and in the one-shot's direct listing and its etcd3 fall-back.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listDirect } from "../../src/store/etcd/direct-list.js";
import { createEtcdStore } from "../../src/store/etcd/grpc-store.js";
import { readKeysFile } from "../../src/store/file-store.js";
import type { StreamSignal } from "../../src/store/types.js";
import { makeConfdir, resourceToml, runPerch, type TestConfdir } from "../helpers/confdir.js";
import { startEtcd, type EtcdServer } from "../helpers/etcd-server.js";
import { startWatch } from "../helpers/watch-process.js";

const FF = Buffer.from("/n/node-\xff", "latin1");
const FE = Buffer.from("/n/node-\xfe", "latin1");
const FF_PROBLEM = 'key 0x2f6e2f6e6f64652dff ("/n/node-\uFFFD") is not valid UTF-8: left out';

let c: TestConfdir;
let etcd: EtcdServer;
beforeAll(async () => {
  c = await makeConfdir();
  await c.writeTemplate("t.hbs", '{{#each (gets "/*")}}{{key}}={{value}}\n{{/each}}');
  await c.writeResource("t", resourceToml("t.hbs", path.join(c.out, "t.txt"), ["/"], `prefix = "/n"`));
  etcd = await startEtcd();
  const client = etcd.client();
  await client.put("/n/ok").value("1");
  await client.put(FF).value("a");
  await client.put(FE).value("b");
  await client.put("/n/bad-value").value(Buffer.from("p\xff\xfe", "latin1"));
});
afterAll(async () => {
  await etcd?.stop();
  await c?.cleanup();
});

describe("keys and values that are not UTF-8", () => {
  it("the direct listing and the etcd3 listing leave them out and name them alike", async () => {
    const direct = await listDirect({ endpoints: [etcd.clientUrl] }, ["/n/"]);
    const store = await createEtcdStore({ endpoints: [etcd.clientUrl] });
    try {
      const viaEtcd3 = await store.list(["/n/"]);
      for (const listing of [direct, viaEtcd3]) {
        expect(listing.kvs).toEqual([{ key: "/n/ok", value: "1" }]);
        expect(listing.problems?.map((p) => p.message).sort()).toEqual(["/n/bad-value: the value is not valid UTF-8: the key is left out", FF_PROBLEM, 'key 0x2f6e2f6e6f64652dfe ("/n/node-\uFFFD") is not valid UTF-8: left out'].sort());
      }
    } finally {
      await store.close();
    }
  });

  it("perch render names them, renders the rest and exits 1", async () => {
    const r = await runPerch(["render", "--confdir", c.dir, "--endpoints", etcd.clientUrl]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("key 0x2f6e2f6e6f64652dff");
    expect(r.stderr).toContain("is not valid UTF-8: left out");
    expect(await readFile(path.join(c.out, "t.txt"), "utf8")).toBe("/ok=1\n");
  });

  it("the watch stream drops a key that is not UTF-8 and turns a value that is not into a delete", async () => {
    const store = await createEtcdStore({ endpoints: [etcd.clientUrl] });
    const signals: StreamSignal[] = [];
    try {
      const { revision } = await store.list(["/w/"]);
      await store.watch(["/w/"], revision, (s) => signals.push(s));
      const client = etcd.client();
      await client.put("/w/v").value("good");
      await client.put(Buffer.from("/w/\xff", "latin1")).value("x");
      await client.put("/w/v").value(Buffer.from("\xff", "latin1"));
      // etcd may deliver the three events in one response or in several.
      const changes = () => signals.flatMap((s) => (s.type === "changes" ? [s] : []));
      await expect.poll(() => changes().flatMap((s) => s.events).length, { timeout: 10_000 }).toBe(2);
      expect(changes().flatMap((s) => s.events.map((e) => `${e.type} ${e.key}`))).toEqual(["put /w/v", "delete /w/v"]);
      expect(changes().flatMap((s) => s.problems?.map((p) => p.message) ?? [])).toEqual(['key 0x2f772fff ("/w/\uFFFD") is not valid UTF-8: left out', "/w/v: the value is not valid UTF-8: the key is left out"]);
    } finally {
      await store.close();
    }
  });

  it("after deleting one of node-\\xff and node-\\xfe the daemon's file equals a fresh render", async () => {
    const client = etcd.client();
    const dest = path.join(c.out, "t.txt");
    const w = await startWatch(["--confdir", c.dir, "--endpoints", etcd.clientUrl, "--wait", "10ms:50ms"]);
    try {
      await w.waitForFile(dest, (s) => s.includes("/ok="));
      await w.waitForEvent((e) => e.event === "store-problem" && e.key === "0x2f6e2f6e6f64652dff" && typeof e.msg === "string" && e.msg.includes("is not valid UTF-8"));
      await client.delete().key(FE);
      await client.put("/n/ok").value("2");
      const daemon = await w.waitForFile(dest, (s) => s.includes("/ok=2"));
      const fresh = path.join(c.out, "fresh.txt");
      await c.writeResource("t", resourceToml("t.hbs", fresh, ["/"], `prefix = "/n"`));
      await runPerch(["render", "--confdir", c.dir, "--endpoints", etcd.clientUrl]);
      expect(daemon).toBe(await readFile(fresh, "utf8"));
      expect(daemon).toBe("/ok=2\n");
    } finally {
      await w.stop();
      await c.writeResource("t", resourceToml("t.hbs", dest, ["/"], `prefix = "/n"`));
    }
  }, 60_000);

  it("a keys file that is not UTF-8 is an error naming it", async () => {
    const file = path.join(c.dir, "latin1.json");
    await writeFile(file, Buffer.concat([Buffer.from('{"/a\xff": "1"}', "latin1")]));
    await expect(readKeysFile(file)).rejects.toThrow("keys file is not valid UTF-8");
  });
});
