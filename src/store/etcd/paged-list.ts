/** The etcd3 store's listing: every key under the prefixes, page by page, at one revision. */
import { GRPCResourceExhastedError, Range, type Etcd3 } from "etcd3";
import { errorMessage } from "../../errors.js";
import type { KeyValue, Snapshot, StoreProblem } from "../types.js";
import { decodeEntry } from "./utf8.js";
import type { EtcdClients } from "./failover.js";
import { disjointPrefixes } from "./listing.js";

/** Listings started again when compaction overtakes their revision, before giving up. */
const LIST_ATTEMPTS = 3;

export async function listPaged(clients: EtcdClients, prefixes: readonly string[], pageSize: number): Promise<Snapshot> {
  const ranges = disjointPrefixes(prefixes).map((p) => Range.prefix(p));
  for (let attempt = 1; ; attempt++) {
    try {
      return await clients.run((client) => listAtOneRevision(client, ranges, pageSize));
    } catch (err) {
      // Compaction overtook the pinned revision mid-listing: start again at a newer one.
      const compacted = errorMessage(err).includes("required revision has been compacted");
      if (!compacted || attempt === LIST_ATTEMPTS) throw await clients.explain(err);
    }
  }
}

/** The first page's revision pins every later page, so the listing is one consistent view. */
async function listAtOneRevision(client: Etcd3, ranges: Range[], firstPageSize: number): Promise<Snapshot> {
  if (ranges.length === 0) {
    const status = await client.maintenance.status();
    return { revision: Number(status.header.revision), kvs: [] };
  }
  let revision: number | undefined;
  let pageSize = firstPageSize;
  const kvs: KeyValue[] = [];
  const problems: StoreProblem[] = [];
  for (const range of ranges) {
    let key = range.start;
    for (;;) {
      // No sort_order: etcd returns a range in ascending key order anyway (Kubernetes' paginated
      // lists rely on it too), and an explicit sort makes etcd 3.4 read the rest of the range for every page.
      let res;
      try {
        res = await client.kv.range({ key, range_end: range.end, limit: pageSize, revision: revision ?? 0 });
      } catch (err) {
        // A page of large values can still exceed the message limit: ask for fewer keys.
        if (!(err instanceof GRPCResourceExhastedError) || pageSize === 1) throw err;
        pageSize = Math.max(1, Math.floor(pageSize / 2));
        continue;
      }
      revision ??= Number(res.header.revision);
      for (const item of res.kvs) {
        const entry = decodeEntry(item.key, item.value, problems);
        if (entry !== undefined) kvs.push(entry);
      }
      const last = res.kvs.at(-1);
      if (!res.more || last === undefined) break;
      key = Buffer.concat([last.key, Buffer.from([0])]);
    }
  }
  return { revision: revision ?? 0, kvs, ...(problems.length > 0 && { problems }) };
}
