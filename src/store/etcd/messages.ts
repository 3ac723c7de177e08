/**
 * The few etcd gRPC messages a one-shot listing exchanges, in protobuf's wire format (field numbers
 * from etcd's rpc.proto and kv.proto). By hand: a cold render decodes each page once, in V8's
 * interpreter, where a generic reader's call per tag and check is several times slower.
 * test/unit/etcd-messages.test.ts checks it against @bufbuild/protobuf.
 */
import type { StoreProblem } from "../types.js";
import { decodeEntryAt } from "./utf8.js";

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
 * are absent from the wire (an empty value, more = false). Each KeyValue is read in place: its key
 * and value go from the message to strings, with no object, array or buffer in between.
 */
export function readRangeResponse(message: Buffer): RangePage {
  const { varint, length, skip, at, seek, done } = fieldReader(message);
  const page: RangePage = { revision: undefined, kvs: [], problems: [], lastKey: undefined, more: false };
  let lastKeyStart = -1;
  let lastKeyEnd = -1;
  while (!done()) {
    const tag = varint();
    if (tag === ((1 << 3) | LEN)) {
      const end = length();
      page.revision = readHeader(message.subarray(at(), end));
      seek(end);
    } else if (tag === ((2 << 3) | LEN)) {
      const kvEnd = length();
      let keyStart = 0;
      let keyEnd = 0;
      let valueStart = 0;
      let valueEnd = 0;
      while (at() < kvEnd) {
        const field = varint();
        if (field === ((1 << 3) | LEN)) {
          keyEnd = length();
          keyStart = at();
          seek(keyEnd);
        } else if (field === ((5 << 3) | LEN)) {
          valueEnd = length();
          valueStart = at();
          seek(valueEnd);
        } else skip(field);
      }
      if (at() !== kvEnd) throw new WireError("a KeyValue's last field runs past its end");
      const entry = decodeEntryAt(message, keyStart, keyEnd, valueStart, valueEnd, page.problems);
      if (entry !== undefined) page.kvs.push(entry);
      lastKeyStart = keyStart;
      lastKeyEnd = keyEnd;
    } else if (tag === ((3 << 3) | VARINT)) page.more = varint() !== 0;
    else skip(tag);
  }
  if (lastKeyStart >= 0) page.lastKey = message.subarray(lastKeyStart, lastKeyEnd);
  return page;
}

/** The revision in the header (field 1) of any etcd response, e.g. a StatusResponse. */
export function readResponseRevision(message: Uint8Array): number | undefined {
  return lastField(message, (1 << 3) | LEN, (r, end) => readHeader(message.subarray(r.at(), end)));
}

/** etcdserverpb.AuthenticateResponse: header = 1, token = 2. */
export function readAuthenticateResponse(message: Uint8Array): string {
  return lastField(message, (2 << 3) | LEN, (r, end) => Buffer.from(message.buffer, message.byteOffset + r.at(), end - r.at()).toString("utf8")) ?? "";
}

/** etcdserverpb.ResponseHeader: cluster_id = 1, member_id = 2, revision = 3, raft_term = 4. */
function readHeader(message: Uint8Array): number | undefined {
  return lastField(message, (3 << 3) | VARINT, (r) => r.varint());
}

/**
 * The value of the field with `tag` (the last one, as protobuf has it), read by `read` (given, for a length-delimited
 * field, where its bytes end); the other fields are skipped.
 */
function lastField<T>(message: Uint8Array, tag: number, read: (r: FieldReader, end: number) => T): T | undefined {
  const r = fieldReader(message);
  let value: T | undefined;
  while (!r.done()) {
    const t = r.varint();
    if (t !== tag) r.skip(t);
    else if ((tag & 7) !== LEN) value = read(r, r.at());
    else {
      const end = r.length();
      value = read(r, end);
      r.seek(end);
    }
  }
  return value;
}

type FieldReader = ReturnType<typeof fieldReader>;

/**
 * Reads a message front to back. Closures over a local position rather than a class: a cold listing is decoded in
 * V8's interpreter, which runs these faster than methods reading and writing a field of `this`.
 */
function fieldReader(message: Uint8Array) {
  const end = message.length;
  let pos = 0;

  /**
   * An unsigned varint as a Number: exact up to 2^53 (revisions, lengths, tags). A negative int64
   * (ten bytes) comes out as a large positive number; etcd sends none in the fields read here.
   */
  function varint(): number {
    // Tags and most lengths are one byte.
    const first = message[pos];
    if (first !== undefined && first < 0x80) {
      pos++;
      return first;
    }
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new WireError("a varint runs past the end of the message");
      const byte = message[pos++] as number;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    throw new WireError("a varint longer than ten bytes");
  }

  /** A length prefix, returned as the position where the field ends. */
  function length(): number {
    const fieldEnd = varint() + pos;
    if (fieldEnd > end) throw new WireError("a length-delimited field runs past the end of the message");
    return fieldEnd;
  }

  function advance(n: number): void {
    if (pos + n > end) throw new WireError("a fixed-size field runs past the end of the message");
    pos += n;
  }

  /** Skips the value of a field this code does not read. */
  function skip(tag: number): void {
    switch (tag & 7) {
      case VARINT:
        varint();
        return;
      case I64:
        advance(8);
        return;
      case LEN:
        pos = length();
        return;
      case I32:
        advance(4);
        return;
      default:
        throw new WireError(`wire type ${tag & 7} (field ${Math.floor(tag / 8)}) is not used by etcd's messages`);
    }
  }

  return { varint, length, skip, at: (): number => pos, seek: (to: number): void => void (pos = to), done: (): boolean => pos >= end };
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
