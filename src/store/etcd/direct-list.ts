/**
 * The one-shot listing: etcd's own gRPC calls (`KV/Range`, one per page) made directly over
 * node:http2, so that a cold `perch render` does not load etcd3, grpc-js and protobufjs.
 */
import type { KeyValue, Snapshot } from "../types.js";
import { DirectListError, Http2Client, type Http2Options } from "./http2-client.js";
import { disjointPrefixes, LIST_PAGE_SIZE } from "./listing.js";
import { rangeRequest, readRangeResponse, readResponseRevision, type RangePage } from "./messages.js";
import type { StoreProblem } from "../types.js";

export interface DirectListOptions extends Http2Options {
  /** Keys per range request (default LIST_PAGE_SIZE, 5000). */
  pageSize?: number;
}

/**
 * Everything under `prefixes` at one revision, as the etcd3 store lists it, or a DirectListError.
 * The ranges are asked for side by side on the one connection (Calico's set is ten prefixes): each
 * range's first page at the newest revision, then, should the answers disagree (a write came
 * between them), the ranges that are behind again at the newest revision of all; further pages at
 * that revision.
 */
export async function listDirect(options: DirectListOptions, prefixes: readonly string[]): Promise<Snapshot> {
  const client = await Http2Client.open(options);
  try {
    if (options.username !== undefined && options.password !== undefined) await client.authenticate(options.username, options.password);
    const ranges = disjointPrefixes(prefixes).map((p) => prefixRange(Buffer.from(p)));
    // Maintenance/Status: an empty request, answered with the header (and so the revision).
    if (ranges.length === 0) return { revision: revisionOf(await client.call("/etcdserverpb.Maintenance/Status", new Uint8Array(0), readResponseRevision)), kvs: [] };
    const pageSize = options.pageSize ?? LIST_PAGE_SIZE;
    const page = (key: Uint8Array, end: Uint8Array, revision: number): Promise<RangePage> =>
      client.call("/etcdserverpb.KV/Range", rangeRequest(key, end, pageSize, revision), readRangeResponse);
    const firsts = await Promise.all(ranges.map((r) => page(r.key, r.end, 0)));
    const revision = Math.max(...firsts.map((f) => revisionOf(f.revision)));
    const problems: StoreProblem[] = [];
    const pages = await Promise.all(
      ranges.map(async (range, i) => {
        const first = firsts[i] as RangePage;
        const kvs: KeyValue[] = [];
        // No sort_order, as in the etcd3 store: etcd returns ascending keys anyway, and sorting
        // makes etcd 3.4 read the rest of the range for every page.
        let current = first.revision === revision ? first : await page(range.key, range.end, revision);
        for (;;) {
          for (const kv of current.kvs) kvs.push(kv);
          problems.push(...current.problems);
          if (!current.more || current.lastKey === undefined) return kvs;
          current = await page(Buffer.concat([current.lastKey, Buffer.from([0])]), range.end, revision);
        }
      }),
    );
    return { revision, kvs: pages.flat(), ...(problems.length > 0 && { problems }) };
  } finally {
    client.close();
  }
}

/** etcd3's `Range.prefix`: the empty prefix is every key; a prefix of 0xff bytes has no end. */
export function prefixRange(prefix: Buffer): { key: Buffer; end: Buffer } {
  const zero = Buffer.from([0]);
  if (prefix.length === 0) return { key: zero, end: zero };
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i] as number;
    if (byte < 0xff) return { key: prefix, end: Buffer.concat([prefix.subarray(0, i), Buffer.from([byte + 1])]) };
  }
  return { key: prefix, end: zero };
}

function revisionOf(revision: number | undefined): number {
  if (revision === undefined || !Number.isSafeInteger(revision)) throw new DirectListError(`no revision in the answer (${String(revision)})`);
  return revision;
}
