// The one-shot listing, directly over HTTP/2: its ranges are etcd3's (0xff bytes included); what it
// will not handle itself (odd endpoints, TLS files it cannot read, half credentials, a proxy) and
// answers that are not etcd's are DirectListErrors, before any request or at once. Against a real
// etcd, the same snapshot as the etcd3 store (pages, nested prefixes, UTF-8, empty prefixes and
// prefix lists), at one revision while keys are written, over TLS with client certificates and with
// a password, failing over past a dead endpoint; and the fall-back to the etcd3 store (the direct
// listing failing, TLS or password wrong) with its errors. The built CLI lists without loading etcd3.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { constants, createServer as createH2Server, type ServerHttp2Stream } from "node:http2";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import fc from "fast-check";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Range, type Etcd3 } from "etcd3";
import { listDirect, prefixRange, type DirectListOptions } from "../../src/store/etcd/direct-list.js";
import { createEtcdStore, type EtcdStoreOptions } from "../../src/store/etcd/grpc-store.js";
import { DirectListError } from "../../src/store/etcd/http2-client.js";
import { quietIpServerNameWarning } from "../../src/store/etcd/index.js";
import { OneShotEtcdStore } from "../../src/store/etcd/oneshot-store.js";
import type { Snapshot } from "../../src/store/types.js";
import { PERCH } from "../helpers/confdir.js";
import { startEtcd, type EtcdServer } from "../helpers/etcd-server.js";

// As perch's entry does: gRPC's TLS to 127.0.0.1 would warn on every connection.
quietIpServerNameWarning();

describe("prefixRange", () => {
  it("is etcd3's Range.prefix for any bytes", () => {
    const bytes = fc.uint8Array({ maxLength: 6 }).map((a) => Buffer.from(a));
    const mostlyFF = fc.array(fc.constantFrom(0x00, 0x61, 0xfe, 0xff), { maxLength: 5 }).map((a) => Buffer.from(a));
    fc.assert(
      fc.property(fc.oneof(bytes, mostlyFF), (prefix) => {
        const ours = prefixRange(prefix);
        const theirs = Range.prefix(prefix);
        expect([ours.key.toString("hex"), ours.end.toString("hex")]).toEqual([theirs.start.toString("hex"), theirs.end.toString("hex")]);
      }),
    );
  });

  it("covers the examples that matter", () => {
    const hex = (p: Buffer) => Object.values(prefixRange(p)).map((b) => b.toString("hex"));
    expect(hex(Buffer.from("/a/"))).toEqual(["2f612f", "2f6130"]);
    expect(hex(Buffer.from([0x61, 0xff, 0xff]))).toEqual(["61ffff", "62"]);
    expect(hex(Buffer.from([0xff]))).toEqual(["ff", "00"]);
    expect(hex(Buffer.alloc(0))).toEqual(["00", "00"]);
  });
});

describe("left to the etcd3 store", () => {
  afterEach(() => {
    delete process.env.grpc_proxy;
  });

  const refusal = async (options: DirectListOptions): Promise<string> => {
    const err = await listDirect(options, ["/a/"]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DirectListError);
    return (err as DirectListError).message;
  };

  it.each([
    { name: "no endpoints", options: { endpoints: [] }, message: "no endpoints" },
    { name: "an endpoint that is no URL", options: { endpoints: ["etcd-1 etcd-2"] }, message: 'invalid etcd endpoint "etcd-1 etcd-2"' },
    { name: "an endpoint without a port", options: { endpoints: ["http://127.0.0.1"] }, message: "no port" },
    { name: "an endpoint with a path", options: { endpoints: ["http://127.0.0.1:2379/v3"] }, message: "a path" },
    { name: "http:// and https:// mixed", options: { endpoints: ["http://127.0.0.1:1", "https://127.0.0.1:2"] }, message: "a mix of http:// and https://" },
    { name: "a certificate without its key", options: { endpoints: ["https://127.0.0.1:1"], certFile: "/nonexistent" }, message: "without its key" },
    { name: "an unreadable CA file", options: { endpoints: ["https://127.0.0.1:1"], caFile: "/nonexistent/ca.crt" }, message: "cannot read /nonexistent/ca.crt" },
    { name: "a user without a password", options: { endpoints: ["http://127.0.0.1:1"], username: "root" }, message: "without a password" },
  ])("$name", async ({ options, message }) => {
    expect(await refusal(options)).toContain(message);
  });

  it("a gRPC proxy in the environment", async () => {
    process.env.grpc_proxy = "http://proxy.invalid:3128";
    expect(await refusal({ endpoints: ["http://127.0.0.1:1"] })).toBe("$grpc_proxy is set");
  });

  it("no endpoint that can be connected to: the first one's error", async () => {
    const message = await refusal({ endpoints: ["http://127.0.0.1:1", "http://127.0.0.1:2"] });
    expect(message).toMatch(/^http:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/);
  });
});

describe("answers that are not etcd's", () => {
  /** An h2c server on loopback whose every stream gets `answer`; returns its endpoint and a closer. */
  async function fakeServer(answer: (stream: ServerHttp2Stream) => void): Promise<{ endpoint: string; close: () => Promise<void> }> {
    const server = createH2Server();
    server.on("stream", (stream) => {
      // The reset test's own stream errors on this side too.
      stream.on("error", () => undefined);
      answer(stream);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return { endpoint: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }

  it("a gRPC error whose message is not valid percent-encoding is reported as it came", async () => {
    const s = await fakeServer((stream) => stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "13", "grpc-message": "bad %E0%A4%A" }, { endStream: true }));
    try {
      const err = await listDirect({ endpoints: [s.endpoint] }, ["/a/"]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectListError);
      expect((err as Error).message).toBe(`${s.endpoint}/etcdserverpb.KV/Range: gRPC status 13: bad %E0%A4%A`);
    } finally {
      await s.close();
    }
  });

  it("a stream the server cancels is an error at once, not a wait for the timeout", async () => {
    const s = await fakeServer((stream) => stream.close(constants.NGHTTP2_CANCEL));
    try {
      const started = performance.now();
      const err = await listDirect({ endpoints: [s.endpoint], timeoutMs: 5_000 }, ["/a/"]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectListError);
      expect((err as Error).message).toMatch(new RegExp(`^${s.endpoint.replaceAll(".", "\\.")}/etcdserverpb\\.KV/Range: `));
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      await s.close();
    }
  });

  it("an answer that is not one gRPC message is refused", async () => {
    const s = await fakeServer((stream) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(Buffer.from([0, 0, 0, 0, 9, 1, 2]));
    });
    try {
      const err = await listDirect({ endpoints: [s.endpoint] }, ["/a/"]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectListError);
      expect((err as Error).message).toBe(`${s.endpoint}/etcdserverpb.KV/Range: not one uncompressed gRPC message (7 bytes)`);
    } finally {
      await s.close();
    }
  });
});

const PAGE = 7;

/** The error a promise rejects with. */
async function thrown(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err;
    throw err;
  }
  throw new Error("expected a rejection, the promise resolved");
}

/** Key order is not part of a snapshot. */
function sorted(s: Snapshot): Snapshot {
  return { revision: s.revision, kvs: [...s.kvs].sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key))) };
}

async function viaEtcd3(options: EtcdStoreOptions, prefixes: readonly string[]): Promise<Snapshot> {
  const store = await createEtcdStore(options);
  try {
    return await store.list(prefixes);
  } finally {
    await store.close();
  }
}

async function putAll(client: Etcd3, kv: Record<string, string>): Promise<void> {
  const entries = Object.entries(kv);
  for (let i = 0; i < entries.length; i += 128) {
    await client.kv.txn({ success: entries.slice(i, i + 128).map(([key, value]) => ({ request_put: { key: Buffer.from(key), value: Buffer.from(value) } })) });
  }
}

/** A one-shot store whose debug lines are kept. */
function oneShot(options: EtcdStoreOptions): { store: OneShotEtcdStore; debug: string[] } {
  const debug: string[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void debug.push(line) });
  return { store: new OneShotEtcdStore(options, logger), debug };
}

async function listOnce(store: OneShotEtcdStore, prefixes: readonly string[]): Promise<Snapshot> {
  try {
    return await store.list(prefixes);
  } finally {
    await store.close();
  }
}

describe("listing directly over HTTP/2", () => {
  let etcd: EtcdServer;
  let conn: DirectListOptions;
  const keys: Record<string, string> = {
    "/gw/a/sub/x": "nested",
    "/gw/ab/1": "shares /gw/a as a string prefix",
    "/gw/b/1": "b",
    "/gw/empty": "",
    "/gw/ünï/ключ/😀": "värde ✓ 値",
    "/other/x": "outside /gw",
  };
  for (let i = 0; i < 40; i++) keys[`/gw/a/${String(i).padStart(2, "0")}`] = `value ${i}`;

  beforeAll(async () => {
    etcd = await startEtcd();
    conn = { endpoints: [etcd.clientUrl], pageSize: PAGE };
    await putAll(etcd.client(), keys);
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  it.each([
    { name: "several prefixes, one nested in another, one without keys", prefixes: ["/gw/a/", "/gw/a/sub/", "/gw/ünï/", "/gw/none/"] },
    { name: "a prefix inside another given first", prefixes: ["/gw/", "/gw/a"] },
    { name: "string prefixes that are not paths", prefixes: ["/gw/a", "/gw/e"] },
    { name: "non-ASCII prefix", prefixes: ["/gw/ünï/ключ"] },
    { name: "the empty prefix (every key)", prefixes: [""] },
    { name: "no prefix", prefixes: [] },
  ])("lists what the etcd3 store lists: $name", async ({ prefixes }) => {
    const direct = sorted(await listDirect(conn, prefixes));
    expect(direct).toEqual(sorted(await viaEtcd3(conn, prefixes)));
    expect(direct.revision).toBeGreaterThan(0);
    const all = Object.entries(keys).filter(([k]) => prefixes.some((p) => k.startsWith(p)));
    expect(Object.fromEntries(direct.kvs.map((kv) => [kv.key, kv.value]))).toEqual(Object.fromEntries(all));
  });

  it("lists at the revision of its first page while keys are written", async () => {
    const client = etcd.client();
    await putAll(client, Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`/pin/${String(i).padStart(3, "0")}`, `v${i}`])));
    let listing = true;
    const written: number[] = [];
    // Keys after the last listed one: a listing that did not pin its revision would reach them.
    const writer = (async () => {
      for (let i = 0; listing; i++) {
        const res = await client.put(`/pin/zz-${i}`).value("late").exec();
        if (listing) written.push(Number(res.header.revision));
      }
    })();
    const snapshot = await listDirect({ ...conn, pageSize: 5 }, ["/pin/"]);
    listing = false;
    await writer;
    expect(written.filter((r) => r > snapshot.revision).length).toBeGreaterThan(0);
    const reference = await client.getAll().prefix("/pin/").revision(snapshot.revision).strings();
    expect(Object.fromEntries(snapshot.kvs.map((kv) => [kv.key, kv.value]))).toEqual(reference);
    expect(snapshot.kvs.length).toBeGreaterThanOrEqual(300);
  });

  it("lists several prefixes at one revision while keys are written under each of them", async () => {
    const client = etcd.client();
    const prefixes = ["/multi/a/", "/multi/b/", "/multi/c/", "/multi/d/"];
    await putAll(client, Object.fromEntries(prefixes.flatMap((p) => Array.from({ length: 30 }, (_, i) => [`${p}${String(i).padStart(2, "0")}`, `v${i}`]))));
    let listing = true;
    // Every prefix gets new keys, at its start and at its end, as fast as etcd takes them: ranges
    // asked for side by side answer at different revisions unless the lister pins one.
    const writer = (async () => {
      for (let i = 0; listing; i++) {
        const p = prefixes[i % prefixes.length] as string;
        await client.put(`${p}${i % 2 === 0 ? "0" : "zz"}-${i}`).value("late").exec();
      }
    })();
    try {
      for (let round = 0; round < 20; round++) {
        const snapshot = await listDirect({ ...conn, pageSize: 7 }, prefixes);
        const reference = Object.fromEntries(
          (await Promise.all(prefixes.map((p) => client.getAll().prefix(p).revision(snapshot.revision).strings()))).flatMap((r) => Object.entries(r)),
        );
        expect(Object.fromEntries(snapshot.kvs.map((kv) => [kv.key, kv.value]))).toEqual(reference);
      }
    } finally {
      listing = false;
      await writer;
    }
  });

  it("fails over past an endpoint that refuses, and stays with the one that answers", async () => {
    const refused = await closedPort();
    const s = await listDirect({ ...conn, endpoints: [`http://127.0.0.1:${refused}`, etcd.endpoint] }, ["/gw/b/"]);
    expect(s.kvs).toEqual([{ key: "/gw/b/1", value: "b" }]);
  });

  it("gives up on a server that accepts connections and never answers", async () => {
    const silent = createServer(() => undefined);
    const port = await listen(silent);
    try {
      const err = await thrown(listDirect({ endpoints: [`http://127.0.0.1:${port}`], timeoutMs: 300 }, ["/gw/"]));
      expect(err).toBeInstanceOf(DirectListError);
      expect(err.message).toBe(`http://127.0.0.1:${port}: no answer within 300 ms`);
    } finally {
      silent.close();
    }
  });

  it("lists from the endpoint that answers while another accepts connections and never answers", async () => {
    // A member that is down without refusing connections: trying the endpoints one after another
    // held the listing for the whole timeout (5 s by default) when it came first.
    const silent = createServer(() => undefined);
    const port = await listen(silent);
    try {
      for (const endpoints of [
        [`http://127.0.0.1:${port}`, etcd.endpoint],
        [etcd.endpoint, `http://127.0.0.1:${port}`],
      ]) {
        const t0 = Date.now();
        const s = await listDirect({ ...conn, endpoints, timeoutMs: 5000 }, ["/gw/b/"]);
        expect(Date.now() - t0).toBeLessThan(2000);
        expect(s.kvs).toEqual([{ key: "/gw/b/1", value: "b" }]);
      }
    } finally {
      silent.close();
    }
  });

  it("the one-shot store lists directly and closes without having loaded etcd3's store", async () => {
    const { store, debug } = oneShot(conn);
    expect(sorted(await listOnce(store, ["/gw/a/"]))).toEqual(sorted(await viaEtcd3(conn, ["/gw/a/"])));
    expect(debug).toEqual([]);
  });
});

describe("falling back to the etcd3 store", () => {
  let etcd: EtcdServer;
  beforeAll(async () => {
    etcd = await startEtcd();
    await putAll(etcd.client(), { "/fb/1": "one", "/fb/2": "two", "/fb/3": "three" });
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  it("lists through etcd3 when the direct listing fails, and says why at debug level", async () => {
    const conn = { endpoints: [etcd.clientUrl], pageSize: 2 };
    const debug: string[] = [];
    const logger = pino({ level: "debug" }, { write: (line: string) => void debug.push(line) });
    const failing = () => Promise.reject(new DirectListError("refused by the test"));
    const s = await listOnce(new OneShotEtcdStore(conn, logger, failing), ["/fb/"]);
    expect(sorted(s)).toEqual(sorted(await viaEtcd3(conn, ["/fb/"])));
    expect(s.kvs).toHaveLength(3);
    expect(debug).toHaveLength(1);
    expect(JSON.parse(debug[0] as string)).toMatchObject({ level: 20, via: "http2", err: "refused by the test" });
  });

  it("a server that is not etcd (HTTP/1.1 only) is an error of the direct lister, not a hang", async () => {
    const web = createHttpServer((_req, res) => res.end("hello"));
    const port = await listen(web);
    try {
      const err = await thrown(listDirect({ endpoints: [`http://127.0.0.1:${port}`], timeoutMs: 2_000 }, ["/fb/"]));
      expect(err).toBeInstanceOf(DirectListError);
      expect(err.message).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}(/etcdserverpb\\.KV/Range)?: (?!no answer)`));
    } finally {
      web.close();
    }
  });
});

describe("TLS and passwords", () => {
  let tlsEtcd: EtcdServer;
  let authEtcd: EtcdServer;
  const password = "gw-pa55-w0rd";
  beforeAll(async () => {
    [tlsEtcd, authEtcd] = await Promise.all([startEtcd({ tls: true }), startEtcd({ auth: { user: "root", password } })]);
    await Promise.all([putAll(tlsEtcd.client(), { "/t/1": "tls" }), putAll(authEtcd.client(), { "/t/1": "auth" })]);
  });
  afterAll(async () => {
    await Promise.all([tlsEtcd?.stop(), authEtcd?.stop()]);
  });

  it("lists with the CA, client certificate and key", async () => {
    const conn = { endpoints: [tlsEtcd.clientUrl], caFile: tlsEtcd.caFile, certFile: tlsEtcd.certFile, keyFile: tlsEtcd.keyFile };
    const s = await listDirect(conn, ["/t/"]);
    expect(s).toEqual(await viaEtcd3(conn, ["/t/"]));
    expect(s.kvs).toEqual([{ key: "/t/1", value: "tls" }]);
    // etcd3 speaks TLS to an http:// endpoint once a CA is given: so does the direct lister.
    expect(await listDirect({ ...conn, endpoints: [tlsEtcd.endpoint] }, ["/t/"])).toMatchObject({ kvs: s.kvs });
    // A refused TLS endpoint is passed over like a plain one.
    expect(await listDirect({ ...conn, endpoints: [`https://127.0.0.1:${await closedPort()}`, tlsEtcd.clientUrl] }, ["/t/"])).toMatchObject({ kvs: s.kvs });
  });

  it("without a client certificate: the etcd3 store's error", async () => {
    const conn = { endpoints: [tlsEtcd.clientUrl], caFile: tlsEtcd.caFile };
    const t0 = Date.now();
    expect(await thrown(listDirect(conn, ["/t/"]))).toBeInstanceOf(DirectListError);
    // The server's alert ends the wait for its SETTINGS at once, not at the timeout (5 s).
    expect(Date.now() - t0).toBeLessThan(2000);
    const err = await thrown(listOnce(oneShot(conn).store, ["/t/"]));
    expect(err.message).toMatch(/^cannot connect to etcd at https:\/\/127\.0\.0\.1:\d+: TLS handshake with 127\.0\.0\.1:\d+ failed: /);
  });

  it("authenticates with the user name and password", async () => {
    const conn = { endpoints: [authEtcd.clientUrl], username: "root", password };
    const s = await listDirect(conn, ["/t/"]);
    expect(s).toEqual(await viaEtcd3(conn, ["/t/"]));
    expect(s.kvs).toEqual([{ key: "/t/1", value: "auth" }]);
    expect(await listDirect(conn, [])).toMatchObject({ kvs: [] });
  });

  it("with a wrong password or none: the etcd3 store's errors, and no password in the debug line", async () => {
    const wrong = { endpoints: [authEtcd.clientUrl], username: "root", password: "not-the-password" };
    const direct = await thrown(listDirect(wrong, ["/t/"]));
    expect(direct).toBeInstanceOf(DirectListError);
    // etcd's answer is a gRPC status in the trailers.
    expect(direct.message).toBe(`${authEtcd.clientUrl}/etcdserverpb.Auth/Authenticate: gRPC status 3: etcdserver: authentication failed, invalid user ID or password`);
    const { store, debug } = oneShot(wrong);
    expect((await thrown(listOnce(store, ["/t/"]))).message).toBe(`etcd at ${authEtcd.clientUrl}: authentication failed for user "root": wrong user name or password`);
    expect(debug.join("")).toContain("authentication failed");
    expect(debug.join("")).not.toContain("not-the-password");
    const none = await thrown(listOnce(oneShot({ endpoints: [authEtcd.clientUrl] }).store, ["/t/"]));
    expect(none.message).toMatch(/requires authentication: set ETCD_USERNAME and ETCD_PASSWORD/);
  });
});

describe("perch snapshot (built CLI)", () => {
  let etcd: EtcdServer;
  let dir: string;
  let preload: string;
  const password = "cli-pa55";
  beforeAll(async () => {
    etcd = await startEtcd({ auth: { user: "root", password } });
    await putAll(etcd.client(), { "/cli/a": "1", "/cli/ключ": "✓" });
    dir = await mkdtemp(path.join(tmpdir(), "perch-oneshot-"));
    preload = path.join(dir, "report-etcd3.mjs");
    // etcd3 and gRPC are CommonJS: whatever imports them, they land in the CommonJS module cache.
    await writeFile(
      preload,
      [
        'import { createRequire } from "node:module";',
        "const cache = createRequire(import.meta.url).cache;",
        'process.on("exit", () => process.stderr.write(`\\nLOADED ${JSON.stringify(Object.keys(cache).filter((f) => /\\/node_modules\\/(etcd3|@grpc)\\//.test(f)).length)}\\n`));',
        "",
      ].join("\n"),
    );
  });
  afterAll(async () => {
    await etcd?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const snapshot = (user: string) =>
    execa("node", ["--import", preload, PERCH, "snapshot", "--endpoints", etcd.clientUrl, "--prefix", "/cli/", "--log-level", "debug"], {
      reject: false,
      stripFinalNewline: false,
      env: { ETCD_USERNAME: user, ETCD_PASSWORD: password },
    });

  it("lists without loading etcd3", async () => {
    const r = await snapshot("root");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('{\n  "/cli/a": "1",\n  "/cli/ключ": "✓"\n}\n');
    expect(r.stderr).not.toContain("listing through the etcd3 client");
    expect(r.stderr).toContain("LOADED 0\n");
  });

  it("loads etcd3 when the direct listing fails (and the check above would see it)", async () => {
    const r = await snapshot("nobody");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("listing through the etcd3 client");
    expect(r.stderr).toContain('authentication failed for user "nobody"');
    expect(r.stderr).not.toContain("LOADED 0\n");
    expect(r.stderr).toMatch(/LOADED [1-9]\d*\n/);
  });
});

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : 0);
    });
  });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}
