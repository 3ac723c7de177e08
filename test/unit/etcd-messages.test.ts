// perch's hand-written codec for etcd's messages, checked against a protobuf library
// (@bufbuild/protobuf's wire reader and writer, a dev dependency only) on random messages: fields
// in any order, fields perch skips of every wire type, large revisions and lengths, and truncated
// or corrupt input, which must fail with an error rather than read past the end.
import { isUtf8 } from "node:buffer";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { authenticateRequest, rangeRequest, readAuthenticateResponse, readRangeResponse, readResponseRevision, WireError } from "../../src/store/etcd/messages.js";

const bytes = fc.uint8Array({ maxLength: 40 });
const revision = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }));

interface Kv {
  key: Uint8Array;
  value: Uint8Array;
  createRevision: number;
  lease: number;
}

const kvArb = fc.record({ key: bytes, value: bytes, createRevision: revision, lease: fc.integer({ min: 0, max: 2 ** 31 }) });

/** A ResponseHeader as etcd writes it: cluster_id and member_id are fixed64-sized uint64 varints, raft_term after revision. */
function header(w: BinaryWriter, rev: number): void {
  w.tag(1, WireType.LengthDelimited).fork();
  w.tag(1, WireType.Varint).uint64(14841639068965178418n).tag(2, WireType.Varint).uint64(10276657743932975437n);
  w.tag(3, WireType.Varint).int64(rev).tag(4, WireType.Varint).uint64(2);
  w.join();
}

/** mvccpb.KeyValue with every field etcd sends; the key and value go where `order` says, and an empty value is omitted as protobuf does. */
function keyValue(w: BinaryWriter, kv: Kv, valueFirst: boolean): void {
  w.tag(2, WireType.LengthDelimited).fork();
  if (valueFirst && kv.value.length > 0) w.tag(5, WireType.LengthDelimited).bytes(kv.value);
  w.tag(1, WireType.LengthDelimited).bytes(kv.key);
  w.tag(2, WireType.Varint).int64(kv.createRevision).tag(3, WireType.Varint).int64(kv.createRevision + 1).tag(4, WireType.Varint).int64(3);
  if (!valueFirst && kv.value.length > 0) w.tag(5, WireType.LengthDelimited).bytes(kv.value);
  if (kv.lease !== 0) w.tag(6, WireType.Varint).int64(kv.lease);
  w.join();
}

function rangeResponse(rev: number, kvs: Kv[], more: boolean, valueFirst: boolean, extras: boolean): Buffer {
  const w = new BinaryWriter();
  if (extras) w.tag(9, WireType.Bit64).fixed64(7n).tag(10, WireType.Bit32).fixed32(7).tag(11, WireType.LengthDelimited).string("unknown");
  header(w, rev);
  for (const kv of kvs) keyValue(w, kv, valueFirst);
  if (more) w.tag(3, WireType.Varint).bool(true);
  w.tag(4, WireType.Varint).int64(kvs.length + (more ? 1 : 0));
  return Buffer.from(w.finish());
}

describe("readRangeResponse", () => {
  it("reads what a protobuf library writes", () => {
    fc.assert(
      fc.property(revision, fc.array(kvArb, { maxLength: 12 }), fc.boolean(), fc.boolean(), fc.boolean(), (rev, kvs, more, valueFirst, extras) => {
        const page = readRangeResponse(rangeResponse(rev, kvs, more, valueFirst, extras));
        expect(page.revision).toBe(rev);
        expect(page.more).toBe(more);
        // A key or value that is not UTF-8 is left out and named, as in the etcd3 store; the next page still starts after the last key.
        const valid = kvs.filter((kv) => isUtf8(Buffer.from(kv.key)) && isUtf8(Buffer.from(kv.value)));
        expect(page.kvs).toEqual(valid.map((kv) => ({ key: Buffer.from(kv.key).toString("utf8"), value: Buffer.from(kv.value).toString("utf8") })));
        expect(page.problems).toHaveLength(kvs.length - valid.length);
        expect(page.lastKey?.toString("hex")).toBe(kvs.length === 0 ? undefined : Buffer.from((kvs.at(-1) as Kv).key).toString("hex"));
      }),
    );
  });

  it("keeps a U+FFFD that is in the UTF-8 and leaves out bytes that decode to one", () => {
    const kv = (key: string | Buffer, value: string | Buffer): Kv => ({ key: Buffer.from(key), value: Buffer.from(value), createRevision: 9, lease: 0 });
    const page = readRangeResponse(rangeResponse(10, [kv("/k/\uFFFD", "v\uFFFD"), kv(Buffer.from([0x2f, 0xff]), "v"), kv("/v", Buffer.from([0x76, 0xc3])), kv("/ok", "é"), kv(Buffer.from([0x2f, 0xed, 0xa0, 0x80]), "a surrogate's bytes")], false, false, false));
    expect(page.kvs).toEqual([
      { key: "/k/\uFFFD", value: "v\uFFFD" },
      { key: "/ok", value: "é" },
    ]);
    expect(page.problems.map((p) => p.message)).toEqual([
      'key 0x2fff ("/\uFFFD") is not valid UTF-8: left out',
      "/v: the value is not valid UTF-8: the key is left out",
      'key 0x2feda080 ("/\uFFFD\uFFFD\uFFFD") is not valid UTF-8: left out',
    ]);
  });

  it("reads an empty answer (no header fields at all) as no revision, no keys", () => {
    expect(readRangeResponse(Buffer.alloc(0))).toEqual({ revision: undefined, kvs: [], problems: [], lastKey: undefined, more: false });
  });

  it("fails on every truncation of a valid answer, never reading past its end", () => {
    const kvs: Kv[] = [
      { key: Buffer.from("/calico/bgp/v1/host/node-1/ip_addr_v4"), value: Buffer.from("10.0.0.1"), createRevision: 5, lease: 0 },
      { key: Buffer.from("/k"), value: Buffer.from("v"), createRevision: 300, lease: 7 },
    ];
    const whole = rangeResponse(123456, kvs, true, false, false);
    const errors = new Set<string>();
    for (let cut = 1; cut < whole.length; cut++) {
      try {
        readRangeResponse(whole.subarray(0, cut));
      } catch (err) {
        expect(err).toBeInstanceOf(WireError);
        errors.add((err as Error).message);
        continue;
      }
      // A cut between top-level fields is a shorter, valid message; it must read as a prefix.
      const page = readRangeResponse(whole.subarray(0, cut));
      expect(page.kvs.length).toBeLessThanOrEqual(kvs.length);
    }
    expect([...errors].sort()).toEqual(["a length-delimited field runs past the end of the message", "a varint runs past the end of the message"]);
  });

  it("names what is wrong with a corrupt answer", () => {
    expect(() => readRangeResponse(Buffer.from([0x0b]))).toThrow(new WireError("wire type 3 (field 1) is not used by etcd's messages"));
    expect(() => readRangeResponse(Buffer.from([0x18, ...Array<number>(10).fill(0xff)]))).toThrow(new WireError("a varint longer than ten bytes"));
    expect(() => readRangeResponse(Buffer.from([0x49, 1, 2]))).toThrow(new WireError("a fixed-size field runs past the end of the message"));
    // A KeyValue whose inner field claims more bytes than the KeyValue has (but the message has).
    expect(() => readRangeResponse(Buffer.from([0x12, 0x02, 0x0a, 0x03, 0x61, 0x62, 0x63]))).toThrow(new WireError("a KeyValue's last field runs past its end"));
  });
});

describe("the other messages", () => {
  it("rangeRequest is what a protobuf library reads as a RangeRequest", () => {
    fc.assert(
      fc.property(bytes, bytes, fc.integer({ min: 1, max: 100_000 }), fc.oneof(fc.constant(0), revision), (key, end, limit, rev) => {
        const r = new BinaryReader(rangeRequest(key, end, limit, rev));
        const seen: Record<number, unknown> = {};
        while (r.pos < r.len) {
          const [field, type] = r.tag();
          seen[field] = type === WireType.LengthDelimited ? Buffer.from(r.bytes()).toString("hex") : Number(r.int64());
        }
        expect(seen).toEqual({ 1: Buffer.from(key).toString("hex"), 2: Buffer.from(end).toString("hex"), 3: limit, ...(rev !== 0 && { 4: rev }) });
      }),
    );
  });

  it("authenticateRequest carries the name and password as UTF-8", () => {
    const r = new BinaryReader(authenticateRequest("röot", "pa55 ✓"));
    const fields: Array<[number, string]> = [];
    while (r.pos < r.len) fields.push([r.tag()[0], r.string()]);
    expect(fields).toEqual([
      [1, "röot"],
      [2, "pa55 ✓"],
    ]);
  });

  it("reads the token of an AuthenticateResponse and the revision of any response's header", () => {
    const w = new BinaryWriter();
    header(w, 42);
    w.tag(2, WireType.LengthDelimited).string("tokén.17");
    const message = w.finish();
    expect(readAuthenticateResponse(message)).toBe("tokén.17");
    expect(readResponseRevision(message)).toBe(42);
    expect(readAuthenticateResponse(new Uint8Array(0))).toBe("");
    expect(readResponseRevision(new Uint8Array(0))).toBeUndefined();
  });
});
