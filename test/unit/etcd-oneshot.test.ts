// The one-shot lister's ranges are etcd3's (0xff bytes included), and what it will not handle
// itself is handed to the etcd3 store before any request.
import { constants, createServer, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { Range } from "etcd3";
import { afterEach, describe, expect, it } from "vitest";
import { DirectListError, listDirect, prefixRange, type DirectListOptions } from "../../src/store/etcd/oneshot-store.js";

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
    const server = createServer();
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
