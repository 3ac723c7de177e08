// The one-shot lister's ranges are etcd3's (0xff bytes included), and what it will not handle
// itself is handed to the etcd3 store before any request.
import fc from "fast-check";
import { Range } from "etcd3";
import { afterEach, describe, expect, it } from "vitest";
import { DirectListError, listDirect, prefixRange, type DirectListOptions } from "../../src/store/etcd-oneshot.js";

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

  it("no endpoint that can be connected to: the last one's error", async () => {
    const message = await refusal({ endpoints: ["http://127.0.0.1:1", "http://127.0.0.1:2"] });
    expect(message).toMatch(/^http:\/\/127\.0\.0\.1:2: connect ECONNREFUSED/);
  });
});
