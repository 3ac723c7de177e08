import { createServer, type Server } from "node:net";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { KVClient, type Etcd3 } from "etcd3";
import { PerchError } from "../../src/errors.js";
import { createEtcdStore, type EtcdStoreOptions } from "../../src/store/etcd/grpc-store.js";
import { quietIpServerNameWarning } from "../../src/store/etcd/index.js";
import type { ChangeEvent, ChangeStream, Store, StreamSignal } from "../../src/store/types.js";
import { generateTlsFiles, startEtcd, startEtcdCluster, type EtcdServer } from "../helpers/etcd-server.js";
import { startTcpProxy } from "../helpers/tcp-proxy.js";

// As perch's entry does: gRPC's TLS to 127.0.0.1 would warn on every connection.
quietIpServerNameWarning();

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Everything under `prefix` at `revision` in one unpaginated request, as the reference. */
async function rangeAt(client: Etcd3, prefix: string, revision: number): Promise<Record<string, string>> {
  return client.getAll().prefix(prefix).revision(revision).strings();
}

async function putAll(client: Etcd3, entries: [string, string][]): Promise<void> {
  // etcd's default --max-txn-ops is 128; a few transactions in flight keep its disk busy.
  const txns: [string, string][][] = [];
  for (let i = 0; i < entries.length; i += 128) txns.push(entries.slice(i, i + 128));
  for (let i = 0; i < txns.length; i += 8) {
    await Promise.all(
      txns.slice(i, i + 8).map((ops) =>
        client.kv.txn({ success: ops.map(([key, value]) => ({ request_put: { key: Buffer.from(key), value: Buffer.from(value) } })) }),
      ),
    );
  }
}

async function put(client: Etcd3, key: string, value: string): Promise<number> {
  const res = await client.put(key).value(value).exec();
  return Number(res.header.revision);
}

/** Records the signals of a change stream and applies its changes to a map, like the mirror. */
class Recorder {
  readonly signals: StreamSignal[] = [];
  readonly state = new Map<string, string>();
  stream: ChangeStream | undefined;

  readonly onSignal = (signal: StreamSignal): void => {
    this.signals.push(signal);
    if (signal.type !== "changes") return;
    for (const ev of signal.events) {
      if (ev.type === "put") this.state.set(ev.key, ev.value);
      else this.state.delete(ev.key);
    }
  };

  get events(): ChangeEvent[] {
    return this.signals.flatMap((s) => (s.type === "changes" ? s.events : []));
  }

  types(): string[] {
    return this.signals.map((s) => s.type);
  }

  async watch(store: Store, prefixes: string[], afterRevision: number): Promise<this> {
    this.stream = await store.watch(prefixes, afterRevision, this.onSignal);
    return this;
  }

  /**
   * Every change signal's revision is its last event's, and under each prefix revisions never go
   * back. (Across prefixes etcd does not order the watches of one stream: a watch still catching up
   * on history can deliver after another's newer events.)
   */
  expectOrdered(prefixes: string[]): void {
    const previous = new Map<string, number>();
    for (const s of this.signals) {
      if (s.type !== "changes") continue;
      expect(s.revision).toBe(s.events.at(-1)?.revision);
      for (const ev of s.events) {
        const prefix = prefixes.find((p) => ev.key.startsWith(p)) as string;
        expect(ev.revision).toBeGreaterThanOrEqual(previous.get(prefix) ?? 0);
        previous.set(prefix, ev.revision);
      }
    }
  }

  under(prefix: string): ChangeEvent[] {
    return this.events.filter((e) => e.key.startsWith(prefix));
  }
}

describe("etcd store against a real etcd", () => {
  let etcd: EtcdServer;
  let client: Etcd3;
  let store: Store;
  const stores: Store[] = [];

  async function openStore(extra: Partial<EtcdStoreOptions> = {}): Promise<Store> {
    const s = await createEtcdStore({ endpoints: [etcd.clientUrl], ...extra });
    stores.push(s);
    return s;
  }

  beforeAll(async () => {
    etcd = await startEtcd();
    client = etcd.client();
    store = await openStore();
  });

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await etcd?.stop();
  });

  /** Run `during` once, just before the store's `nth` range request goes out; count the requests. */
  function beforeRangeRequest(nth: number, during: () => Promise<void>): { calls: () => number; restore: () => void } {
    const original = KVClient.prototype.range;
    let calls = 0;
    const spy = vi.spyOn(KVClient.prototype, "range").mockImplementation(async function (this: KVClient, req, options) {
      if (++calls === nth) await during();
      return original.call(this, req, options);
    });
    return { calls: () => calls, restore: () => spy.mockRestore() };
  }

  it("lists several prefixes page by page at one revision, blind to writes made between pages", async () => {
    const initial: [string, string][] = [];
    for (let i = 0; i < 60; i++) initial.push([`/list/a/k${String(i).padStart(3, "0")}`, `a${i}`]);
    for (let i = 0; i < 45; i++) initial.push([`/list/b/k${String(i).padStart(3, "0")}`, `b${i}`]);
    initial.push(["/list/c/outside", "no"]);
    await putAll(client, initial);
    const small = await openStore({ pageSize: 7 });

    // After the first two pages: new keys at the end of both prefixes (later pages would reach
    // them), a new value for a key on a later page, and a deleted key on a later page.
    const late: number[] = [];
    const hook = beforeRangeRequest(3, async () => {
      late.push(await put(client, "/list/a/zz-late", "late"));
      late.push(await put(client, "/list/b/zz-late", "late"));
      late.push(await put(client, "/list/a/k050", "changed"));
      await client.delete().key("/list/b/k040");
    });
    // Overlapping prefixes must not list a key twice.
    const snap = await small.list(["/list/b/", "/list/a/", "/list/a/k01"]).finally(hook.restore);

    expect(hook.calls()).toBe(Math.ceil(60 / 7) + Math.ceil(45 / 7));
    expect(Math.min(...late)).toBeGreaterThan(snap.revision);
    const expected = Object.fromEntries(initial.filter(([k]) => !k.startsWith("/list/c/")));
    expect(snap.kvs).toHaveLength(105);
    expect(Object.fromEntries(snap.kvs.map((kv) => [kv.key, kv.value]))).toEqual(expected);
    // The reference: one unpaginated read at the same revision.
    expect(expected).toEqual({ ...(await rangeAt(client, "/list/a/", snap.revision)), ...(await rangeAt(client, "/list/b/", snap.revision)) });
  });

  it("starts the listing again when a compaction overtakes its revision", async () => {
    const entries: [string, string][] = [];
    for (let i = 0; i < 30; i++) entries.push([`/compact-list/k${String(i).padStart(3, "0")}`, `v${i}`]);
    await putAll(client, entries);
    const tiny = await openStore({ pageSize: 10 });

    let compactedAt = 0;
    const hook = beforeRangeRequest(2, async () => {
      compactedAt = await put(client, "/compact-list/k000", "new");
      await client.kv.compact({ revision: compactedAt });
    });
    const snap = await tiny.list(["/compact-list/"]).finally(hook.restore);

    // Page 2 failed as compacted; the listing started again: three pages plus the two before.
    expect(hook.calls()).toBe(2 + 3);
    expect(snap.revision).toBe(compactedAt);
    expect(snap.kvs).toHaveLength(30);
    expect(snap.kvs.find((kv) => kv.key === "/compact-list/k000")?.value).toBe("new");
  });

  it("lists 100,000 keys under one prefix with the default page size", async () => {
    const entries: [string, string][] = [];
    for (let i = 0; i < 100_000; i++) entries.push([`/big/node-${String(i).padStart(6, "0")}`, `{"ip":"10.${i >> 16}.${(i >> 8) & 255}.${i & 255}"}`]);
    const t0 = Date.now();
    await putAll(client, entries);
    const t1 = Date.now();
    const snap = await store.list(["/big/"]);
    const t2 = Date.now();
    console.log(`100k keys: written in ${t1 - t0} ms, listed in ${t2 - t1} ms`);
    expect(snap.kvs).toHaveLength(100_000);
    const got = new Map(snap.kvs.map((kv) => [kv.key, kv.value]));
    expect(got.size).toBe(100_000);
    for (const i of [0, 999, 1000, 54_321, 99_999]) {
      const [key, value] = entries[i] as [string, string];
      expect(got.get(key)).toBe(value);
    }
    await client.delete().prefix("/big/");
  }, 90_000);

  it("watches puts and deletes in order, with their revisions, from after the given revision", async () => {
    const before = await put(client, "/watch/a/old", "0"); // at or before afterRevision: not delivered
    const r1 = await put(client, "/watch/a/one", "1"); // after it: delivered though the watch starts later
    const rec = await new Recorder().watch(store, ["/watch/a/", "/watch/b/"], before);
    await waitFor("connected", () => rec.types().includes("connected"));
    const r2 = await put(client, "/watch/b/two", "2");
    await put(client, "/watch/c/outside", "x");
    const txn = await client.kv.txn({
      success: [
        { request_put: { key: Buffer.from("/watch/a/t1"), value: Buffer.from("t1") } },
        { request_put: { key: Buffer.from("/watch/a/t2"), value: Buffer.from("t2") } },
      ],
    });
    const r3 = Number(txn.header.revision);
    const r4 = Number((await client.kv.deleteRange({ key: Buffer.from("/watch/a/one") })).header.revision);
    const r5 = await put(client, "/watch/b/two", "2b");

    await waitFor("all events", () => rec.events.length >= 6);
    expect(rec.under("/watch/a/")).toEqual([
      { type: "put", key: "/watch/a/one", value: "1", revision: r1 },
      { type: "put", key: "/watch/a/t1", value: "t1", revision: r3 },
      { type: "put", key: "/watch/a/t2", value: "t2", revision: r3 },
      { type: "delete", key: "/watch/a/one", revision: r4 },
    ]);
    expect(rec.under("/watch/b/")).toEqual([
      { type: "put", key: "/watch/b/two", value: "2", revision: r2 },
      { type: "put", key: "/watch/b/two", value: "2b", revision: r5 },
    ]);
    expect(rec.events).toHaveLength(6);
    // The two puts of one transaction arrive in one signal.
    expect(rec.signals.some((s) => s.type === "changes" && s.events.filter((e) => e.revision === r3).length === 2)).toBe(true);
    rec.expectOrdered(["/watch/a/", "/watch/b/"]);
    await rec.stream?.close();
  });

  it("resumes after etcd restarts without losing or repeating an event", async () => {
    const base = (await store.list(["/resume/"])).revision;
    const rec = await new Recorder().watch(store, ["/resume/"], base);
    await waitFor("connected", () => rec.types().includes("connected"));

    // A burst, then the server goes down with part of it perhaps still on its way to us.
    const burst = Array.from({ length: 200 }, (_, i) => put(client, `/resume/k${i % 50}`, `before-${i}`).catch(() => 0));
    await new Promise((r) => setTimeout(r, 5));
    await etcd.kill();
    await Promise.all(burst);
    await etcd.restart();
    client = etcd.client();
    for (let i = 0; i < 50; i++) await put(client, `/resume/k${i}`, `after-${i}`);
    const last = await put(client, "/resume/last", "done");

    await waitFor("the last event", () => rec.events.at(-1)?.revision === last, 30_000);
    const types = rec.types();
    expect(types.indexOf("disconnected")).toBeGreaterThan(types.indexOf("connected"));
    expect(types.lastIndexOf("connected")).toBeGreaterThan(types.indexOf("disconnected"));
    const down = rec.signals.find((s) => s.type === "disconnected");
    expect(down?.type === "disconnected" && down.error).toBeInstanceOf(PerchError);
    expect(down?.type === "disconnected" && down.error.message).toContain(etcd.clientUrl);
    rec.expectOrdered(["/resume/"]);
    // Strictly increasing revisions across single-key puts: nothing was delivered twice.
    const revisions = rec.events.map((e) => e.revision);
    expect(new Set(revisions).size).toBe(revisions.length);
    // And nothing was lost: the events rebuild exactly what etcd holds, revision by revision.
    const history = await client.getAll().prefix("/resume/").strings();
    expect(Object.fromEntries(rec.state)).toEqual(history);
    expect(rec.events.filter((e) => e.revision > base)).toHaveLength(last - base);
    await rec.stream?.close();
  });

  it("reports a compacted start revision and stops that stream", async () => {
    const r1 = await put(client, "/compacted/k", "1");
    const r2 = await put(client, "/compacted/k", "2");
    await client.kv.compact({ revision: r2 });

    const rec = await new Recorder().watch(store, ["/compacted/"], r1 - 1);
    await waitFor("compacted", () => rec.types().includes("compacted"));
    // etcd confirms the watch before it finds the revision compacted.
    expect(rec.signals).toEqual([{ type: "connected" }, { type: "compacted", compactRevision: r2 }]);

    // The stream is finished: later changes go to the new watch the caller starts after listing.
    const snap = await store.list(["/compacted/"]);
    expect(snap.kvs).toEqual([{ key: "/compacted/k", value: "2" }]);
    const fresh = await new Recorder().watch(store, ["/compacted/"], snap.revision);
    const r3 = await put(client, "/compacted/k", "3");
    await waitFor("the fresh watch's event", () => fresh.events.length === 1);
    expect(fresh.events).toEqual([{ type: "put", key: "/compacted/k", value: "3", revision: r3 }]);
    expect(rec.signals).toHaveLength(2);
    await fresh.stream?.close();
  });

  /** Opens a store on `endpoints`, lists and watches `/failover/`; the time each step took. */
  async function openListWatch(endpoints: string[]): Promise<{ openMs: number; listMs: number; eventMs: number }> {
    const r = await put(client, "/failover/k", String(Date.now()));
    const t0 = Date.now();
    const s = await openStore({ endpoints });
    const t1 = Date.now();
    expect((await s.list(["/failover/"])).revision).toBeGreaterThanOrEqual(r);
    const t2 = Date.now();
    const rec = await new Recorder().watch(s, ["/failover/"], r - 1);
    await waitFor("the event", () => rec.events.length === 1, 10_000);
    expect(rec.events[0]?.revision).toBe(r);
    await rec.stream?.close();
    return { openMs: t1 - t0, listMs: t2 - t1, eventMs: Date.now() - t2 };
  }

  it("fails over to a working endpoint, and keeps to it", async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    // etcd3 alone picks an endpoint at random for every call and stream: this watch took up to
    // 25 s (4 of 40 runs over 4.5 s). The store keeps to the endpoint that answered its probe.
    for (let i = 0; i < 5; i++) {
      const took = await openListWatch([dead, etcd.clientUrl, dead]);
      expect(took.openMs).toBeLessThan(2000);
      expect(took.listMs).toBeLessThan(2000);
      // etcd hands a watch its history within 100 ms (its unsynced-watcher loop).
      expect(took.eventMs).toBeLessThan(2000);
    }
  });

  it("keeps away from an endpoint that accepts connections but never answers", async () => {
    // A member whose machine is off, or behind a firewall that drops packets, answers nothing: a
    // call there waits for its deadline. etcd3's random pick made the store's start fail at the
    // dial timeout one time in two here, and a listing or a watch wait 10 s one time in two.
    await withSilentEndpoint(async (endpoint) => {
      for (const endpoints of [
        [endpoint, etcd.clientUrl],
        [etcd.clientUrl, endpoint],
        [endpoint, etcd.clientUrl],
      ]) {
        const took = await openListWatch(endpoints);
        expect(took.openMs).toBeLessThan(2000);
        expect(took.listMs).toBeLessThan(2000);
        expect(took.eventMs).toBeLessThan(2000);
      }
    });
  });

  it("reconnects a watch past a member that answers nothing, to the next one", async () => {
    // The member in use goes away; the next one in turn accepts connections and answers nothing.
    // Waiting on it for the request deadline (10 s) held the watch back; the one after it is
    // asked 250 ms later.
    const proxy = await startTcpProxy(etcd.clientUrl);
    try {
      await withSilentEndpoint(async (silent) => {
        const s = await openStore({ endpoints: [`http://${proxy.address}`, silent, etcd.clientUrl] });
        const r1 = await put(client, "/reconnect/k", "1");
        const rec = await new Recorder().watch(s, ["/reconnect/"], r1 - 1);
        await waitFor("the first event", () => rec.events.length === 1);
        proxy.cut();
        await waitFor("the disconnection", () => rec.types().includes("disconnected"));
        const t0 = Date.now();
        const r2 = await put(client, "/reconnect/k", "2");
        await waitFor("the event after the reconnect", () => rec.events.length === 2, 15_000);
        expect(Date.now() - t0).toBeLessThan(3000);
        expect(rec.events.map((e) => e.revision)).toEqual([r1, r2]);
        await rec.stream?.close();
      });
    } finally {
      await proxy.close();
    }
  });

  it("refuses a mix of http:// and https:// endpoints without TLS files, naming them", async () => {
    const err = await createEtcdStore({ endpoints: ["http://127.0.0.1:1", "https://127.0.0.1:2"] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PerchError);
    expect((err as Error).message).toBe("cannot use etcd endpoints http://127.0.0.1:1, https://127.0.0.1:2: a mix of http:// and https:// endpoints");
  });

  it("refuses a closed port within the dial timeout, naming the endpoint", async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const t0 = Date.now();
    const err = await createEtcdStore({ endpoints: [endpoint], dialTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(err).toBeInstanceOf(PerchError);
    expect((err as Error).message).toContain(endpoint);
    expect((err as Error).message).toMatch(/connection refused/);
  });

  it("gives up on a server that accepts but never answers after the dial timeout", async () => {
    await withSilentEndpoint(async (endpoint) => {
      const t0 = Date.now();
      const err = await createEtcdStore({ endpoints: [endpoint], dialTimeoutMs: 500 }).catch((e: unknown) => e);
      expect(Date.now() - t0).toBeLessThan(1500);
      expect(err).toBeInstanceOf(PerchError);
      expect((err as Error).message).toContain(endpoint);
      expect((err as Error).message).toMatch(/did not answer within the dial timeout of 500 ms/);
    });
  });
});

/** Asserts the error is a PerchError that names the server and never repeats `secret`. */
async function expectFailure(attempt: Promise<unknown>, endpoint: string, secret: string): Promise<PerchError> {
  const err = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PerchError);
  const perr = err as PerchError;
  expect(perr.message).toContain(endpoint);
  expect(inspect(perr, { depth: 10 })).not.toContain(secret);
  return perr;
}

/** The store lists and watches: what every working credential set must allow. */
async function expectWorking(store: Store, client: Etcd3, prefix: string): Promise<void> {
  const r = await put(client, `${prefix}k`, "v");
  expect(await store.list([prefix])).toEqual({ revision: r, kvs: [{ key: `${prefix}k`, value: "v" }] });
  const rec = await new Recorder().watch(store, [prefix], r);
  await waitFor("connected", () => rec.types().includes("connected"));
  const r2 = await put(client, `${prefix}k`, "w");
  await waitFor("the event", () => rec.events.length === 1);
  expect(rec.events).toEqual([{ type: "put", key: `${prefix}k`, value: "w", revision: r2 }]);
  await store.close();
}

describe("etcd store over TLS", () => {
  let etcd: EtcdServer;

  beforeAll(async () => {
    etcd = await startEtcd({ tls: true });
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  function tlsOptions(): EtcdStoreOptions {
    return { endpoints: [etcd.clientUrl], caFile: etcd.caFile, certFile: etcd.certFile, keyFile: etcd.keyFile };
  }

  it("lists and watches with the right CA and client certificate", async () => {
    await expectWorking(await createEtcdStore(tlsOptions()), etcd.client(), "/tls/");
  });

  it("explains a CA that did not sign the server's certificate", async () => {
    const other = await generateTlsFiles();
    const err = await expectFailure(createEtcdStore({ ...tlsOptions(), caFile: other.caFile }), etcd.clientUrl, "-----BEGIN");
    expect(err.message).toMatch(/TLS handshake with 127\.0\.0\.1:\d+ failed: the server's certificate is not trusted/);
  });

  it("explains a missing client certificate", async () => {
    const err = await expectFailure(createEtcdStore({ ...tlsOptions(), certFile: undefined, keyFile: undefined }), etcd.clientUrl, "-----BEGIN");
    expect(err.message).toMatch(/the server rejected the client certificate/);
  });
});

describe("etcd store with a user name and password", () => {
  const password = "pw-must-not-leak-7Q";
  let etcd: EtcdServer;

  beforeAll(async () => {
    etcd = await startEtcd({ auth: { user: "root", password } });
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  it("lists and watches with the right password, which the store does not show", async () => {
    const store = await createEtcdStore({ endpoints: [etcd.clientUrl], username: "root", password });
    expect(inspect(store, { depth: 20, showHidden: true })).not.toContain(password);
    await expectWorking(store, etcd.client(), "/auth/");
  });

  it("resumes a watch after etcd restarts and forgets every auth token", { timeout: 120_000 }, async () => {
    const store = await createEtcdStore({ endpoints: [etcd.clientUrl], username: "root", password });
    try {
      const r1 = await put(etcd.client(), "/auth-restart/k", "1");
      const rec = await new Recorder().watch(store, ["/auth-restart/"], r1);
      await waitFor("connected", () => rec.types().includes("connected"));
      await etcd.restart();
      const r2 = await put(etcd.client(), "/auth-restart/k", "2");
      // Alone this takes ~2 s; on a loaded CI machine etcd3's circuit breaker and its retry of
      // timed-out calls (three tries of the request deadline) can stretch one reconnect a lot.
      await waitFor("the event after the restart", () => rec.events.length === 1, 75_000).catch((err: Error) => {
        // Say what the stream went through, to tell a slow reconnect from a stuck one.
        const seen = rec.signals.map((sig) => (sig.type === "disconnected" ? `disconnected: ${sig.error.message}` : sig.type));
        throw new Error(`${err.message}; signals: ${JSON.stringify(seen)}`);
      });
      expect(rec.events).toEqual([{ type: "put", key: "/auth-restart/k", value: "2", revision: r2 }]);
      expect(rec.types()).toEqual(["connected", "disconnected", "connected", "changes"]);
    } finally {
      await store.close();
    }
  });

  it("explains a wrong password without repeating it", async () => {
    const wrong = `${password}-wrong`;
    const err = await expectFailure(createEtcdStore({ endpoints: [etcd.clientUrl], username: "root", password: wrong }), etcd.clientUrl, password);
    expect(err.message).toMatch(/authentication failed for user "root": wrong user name or password/);
  });

  it("explains a wrong password at once when another endpoint never answers", async () => {
    // The silent one is asked first; the refusal of the next one, asked 250 ms later, ends the
    // start at once, rather than the dial timeout saying only that nothing answered.
    await withSilentEndpoint(async (endpoint) => {
      const t0 = Date.now();
      const err = await expectFailure(createEtcdStore({ endpoints: [endpoint, etcd.clientUrl], username: "root", password: "not-it" }), etcd.clientUrl, "not-it");
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(err.message).toMatch(/authentication failed for user "root": wrong user name or password/);
    });
  });

  it("explains missing credentials when listing", async () => {
    const store = await createEtcdStore({ endpoints: [etcd.clientUrl] });
    try {
      const err = await expectFailure(store.list(["/auth/"]), etcd.clientUrl, password);
      expect(err.message).toMatch(/requires authentication: set ETCD_USERNAME and ETCD_PASSWORD/);
    } finally {
      await store.close();
    }
  });
});

describe("etcd store against a three-member cluster", () => {
  it("keeps listing and watching while the members go down one at a time", async () => {
    const cluster = await startEtcdCluster(3);
    const store = await createEtcdStore({ endpoints: cluster.endpoints });
    try {
      const base = (await store.list(["/ha/"])).revision;
      const rec = await new Recorder().watch(store, ["/ha/"], base);
      await waitFor("connected", () => rec.types().includes("connected"));
      let last = base;
      for (const member of cluster.members) {
        await member.stop();
        last = await put(cluster.client(), `/ha/${member.name}`, "while down");
        expect((await store.list(["/ha/"])).kvs).toContainEqual({ key: `/ha/${member.name}`, value: "while down" });
        await member.start();
      }
      await waitFor("the last event", () => rec.events.at(-1)?.revision === last, 30_000);
      // Every member went down once, so the watch's own member did too: it moved to another.
      expect(rec.types()).toContain("disconnected");
      expect(rec.events.map((e) => e.key)).toEqual(cluster.members.map((m) => `/ha/${m.name}`));
      rec.expectOrdered(["/ha/"]);
    } finally {
      await store.close();
      await cluster.stop();
    }
  });
});



async function closedPort(): Promise<number> {
  const server = await listenSilently();
  const address = server.address();
  await new Promise((r) => server.close(r));
  return typeof address === "object" && address !== null ? address.port : 0;
}

/** Runs `body` with the endpoint of a server that accepts connections and never says anything. */
async function withSilentEndpoint(body: (endpoint: string) => Promise<void>): Promise<void> {
  const silent = await listenSilently();
  try {
    const address = silent.address();
    await body(`http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`);
  } finally {
    silent.close();
  }
}

/** A loopback TCP server that accepts connections and never says anything. */
async function listenSilently(): Promise<Server> {
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}
