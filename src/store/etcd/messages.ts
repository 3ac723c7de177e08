/**
 * The few etcd gRPC messages a one-shot listing exchanges, in protobuf's wire format (field numbers
 * from etcd's rpc.proto and kv.proto). By hand: a cold render decodes each page once, in V8's
 * interpreter, where a generic reader's call per tag and check is several times slower.
 * test/unit/etcd-messages.test.ts checks it against @bufbuild/protobuf.
 */
import type { StoreProblem } from "../types.js";
import { decodeEntry } from "./utf8.js";

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

export interface RangePage {
  /** The header's revision (undefined if the answer had none). */
  revision: number | undefined;
  /** Keys and values decoded as UTF-8; those that are not UTF-8 are in `problems` instead. */
  kvs: Array<{ key: string; value: string }>;
  problems: StoreProblem[];
  /** The last key's bytes, where the next page starts (undefined when there are no keys). */
  lastKey: Buffer | undefined;
  more: boolean;
}

export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WireError";
  }
}

/** etcdserverpb.RangeRequest: key = 1, range_end = 2, limit = 3, revision = 4 (0: the newest). */
export function rangeRequest(key: Uint8Array, end: Uint8Array, limit: number, revision: number): Uint8Array {
  const parts = [lengthDelimited(1, key), lengthDelimited(2, end), varintField(3, limit)];
  if (revision !== 0) parts.push(varintField(4, revision));
  return Buffer.concat(parts);
}

/** etcdserverpb.AuthenticateRequest: name = 1, password = 2. */
export function authenticateRequest(name: string, password: string): Uint8Array {
  return Buffer.concat([lengthDelimited(1, Buffer.from(name, "utf8")), lengthDelimited(2, Buffer.from(password, "utf8"))]);
}

/**
 * etcdserverpb.RangeResponse: header = 1, kvs = 2 (mvccpb.KeyValue: key = 1, value = 5; the
 * revisions, version and lease are skipped), more = 3, count = 4. Fields at their default value
 * are absent from the wire (an empty value, more = false). Strings are decoded straight from the
 * message: no intermediate buffer per key.
 */
export function readRangeResponse(message: Buffer): RangePage {
  const r = new Reader(message);
  const page: RangePage = { revision: undefined, kvs: [], problems: [], lastKey: undefined, more: false };
  let lastKey: [number, number] | undefined;
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | LEN)) page.revision = readHeader(r.bytes());
    else if (tag === ((2 << 3) | LEN)) {
      const kv = readKeyValue(r);
      const entry = decodeEntry(message.subarray(kv[0], kv[1]), message.subarray(kv[2], kv[3]), page.problems);
      if (entry !== undefined) page.kvs.push(entry);
      lastKey = [kv[0], kv[1]];
    } else if (tag === ((3 << 3) | VARINT)) page.more = r.varint() !== 0;
    else r.skip(tag);
  }
  if (lastKey !== undefined) page.lastKey = message.subarray(lastKey[0], lastKey[1]);
  return page;
}

/** The revision in the header (field 1) of any etcd response, e.g. a StatusResponse. */
export function readResponseRevision(message: Uint8Array): number | undefined {
  return lastField(message, (1 << 3) | LEN, (r) => readHeader(r.bytes()));
}

/** etcdserverpb.AuthenticateResponse: header = 1, token = 2. */
export function readAuthenticateResponse(message: Uint8Array): string {
  return lastField(message, (2 << 3) | LEN, (r) => Buffer.from(r.bytes()).toString("utf8")) ?? "";
}

/** etcdserverpb.ResponseHeader: cluster_id = 1, member_id = 2, revision = 3, raft_term = 4. */
function readHeader(message: Uint8Array): number | undefined {
  return lastField(message, (3 << 3) | VARINT, (r) => r.varint());
}

/** The value of the field with `tag` (the last one, as protobuf has it), read by `read`; the other fields are skipped. */
function lastField<T>(message: Uint8Array, tag: number, read: (r: Reader) => T): T | undefined {
  const r = new Reader(message);
  let value: T | undefined;
  while (r.pos < r.end) {
    const t = r.varint();
    if (t === tag) value = read(r);
    else r.skip(t);
  }
  return value;
}

/** A KeyValue read in place from the response's reader: where its key and its value are (start, end, start, end). */
function readKeyValue(r: Reader): [number, number, number, number] {
  const end = r.length();
  const at: [number, number, number, number] = [0, 0, 0, 0];
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | LEN) || tag === ((5 << 3) | LEN)) {
      const fieldEnd = r.length();
      const slot = tag === ((1 << 3) | LEN) ? 0 : 2;
      at[slot] = r.pos;
      at[slot + 1] = fieldEnd;
      r.pos = fieldEnd;
    } else r.skip(tag);
  }
  if (r.pos !== end) throw new WireError("a KeyValue's last field runs past its end");
  return at;
}

class Reader {
  pos = 0;
  readonly end: number;

  constructor(private readonly buf: Uint8Array) {
    this.end = buf.length;
  }

  /**
   * An unsigned varint as a Number: exact up to 2^53 (revisions, lengths, tags). A negative int64
   * (ten bytes) comes out as a large positive number; etcd sends none in the fields read here.
   */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError("a varint runs past the end of the message");
      const byte = this.buf[this.pos++] as number;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    throw new WireError("a varint longer than ten bytes");
  }

  /** A length prefix, returned as the position where the field ends. */
  length(): number {
    const end = this.varint() + this.pos;
    if (end > this.end) throw new WireError("a length-delimited field runs past the end of the message");
    return end;
  }

  bytes(): Uint8Array {
    const end = this.length();
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  /** Skips the value of a field this code does not read. */
  skip(tag: number): void {
    switch (tag & 7) {
      case VARINT:
        this.varint();
        return;
      case I64:
        this.advance(8);
        return;
      case LEN:
        this.pos = this.length();
        return;
      case I32:
        this.advance(4);
        return;
      default:
        throw new WireError(`wire type ${tag & 7} (field ${Math.floor(tag / 8)}) is not used by etcd's messages`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new WireError("a fixed-size field runs past the end of the message");
    this.pos += n;
  }
}

function varintBytes(n: number): number[] {
  const out: number[] = [];
  let rest = n;
  while (rest >= 0x80) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

function varintField(field: number, n: number): Buffer {
  return Buffer.from([...varintBytes((field << 3) | VARINT), ...varintBytes(n)]);
}

function lengthDelimited(field: number, bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([...varintBytes((field << 3) | LEN), ...varintBytes(bytes.length)]), bytes]);
}
