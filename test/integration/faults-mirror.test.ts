// The mirror property against a real etcd: any sequence of puts, deletes, transactions, real
// compactions and real disconnects (a TCP proxy cut and restored, with the writes going on behind
// it) ends with a mirror equal to a fresh listing — in every resource's view. The signals of the
// real etcd store's watch are applied to a Mirror the way src/watch/daemon.ts applies them: changes
// in place; on `compacted`, list again, replace, and watch again from the listing's revision.
// (test/unit/properties.test.ts runs the same property fast, against an in-process model.)
import fc from "fast-check";
import type { Etcd3 } from "etcd3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Mirror, type KeySelection } from "../../src/mirror/mirror.js";
import { createEtcdStore } from "../../src/store/etcd/grpc-store.js";
import type { ChangeStream, Store, StreamSignal } from "../../src/store/types.js";
import { startEtcd, type EtcdServer } from "../helpers/etcd-server.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";
import { waitFor } from "../helpers/watch-process.js";

let etcd: EtcdServer;
let proxy: TcpProxy;
/** The store under test talks to etcd through the proxy; `direct` lists for the comparison. */
let direct: Store;

beforeAll(async () => {
  etcd = await startEtcd();
  proxy = await startTcpProxy(etcd.endpoint);
  direct = await createEtcdStore({ endpoints: [etcd.clientUrl] });
});
afterAll(async () => {
  await direct?.close();
  await proxy?.close();
  await etcd?.stop();
});

/** The resources of one run, under a root of its own. */
function selections(root: string): KeySelection[] {
  return [
    { name: "whole", prefix: `${root}/a`, paths: [`${root}/a`] },
    { name: "nested", prefix: `${root}/a/b`, paths: [`${root}/a/b/x`, `${root}/a/b/y`] },
    { name: "other", prefix: "", paths: [`${root}/c`] },
  ];
}

/** What the daemon does with a store's signals, without rendering. */
class Follower {
  readonly mirror: Mirror;
  private stream: ChangeStream | undefined;
  private generation = 0;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  compactions = 0;

  constructor(
    private readonly store: Store,
    private readonly sel: KeySelection[],
  ) {
    this.mirror = new Mirror(sel);
  }

  start(): Promise<void> {
    return this.serialized(() => this.sync());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    await this.chain;
    await this.stream?.close();
  }

  private serialized(work: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(work);
    return this.chain;
  }

  /** List (retrying while the proxy is cut), replace, watch from the listing's revision. */
  private async sync(): Promise<void> {
    const generation = ++this.generation;
    await this.stream?.close();
    this.stream = undefined;
    const prefixes = this.mirror.watchPrefixes();
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      if (this.stopped) return;
      try {
        const snapshot = await this.store.list(prefixes);
        this.mirror.replace(snapshot.kvs, snapshot.revision);
        this.stream = await this.store.watch(prefixes, snapshot.revision, (signal) => this.onSignal(generation, signal));
        return;
      } catch {
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private onSignal(generation: number, signal: StreamSignal): void {
    if (generation !== this.generation || this.stopped) return;
    if (signal.type === "changes") this.mirror.apply(signal.events, signal.revision);
    else if (signal.type === "compacted") {
      this.compactions++;
      void this.serialized(() => this.sync());
    }
  }
}

type Op =
  | { op: "put"; key: string; value: string }
  | { op: "delete"; key: string }
  /** Several changes at one revision. */
  | { op: "txn"; puts: Array<[string, string]>; deletes: string[] }
  | { op: "compact" }
  /** The connection is cut; the writes go on; etcd maybe compacts; then it is restored. */
  | { op: "partition"; during: Op[]; compact: boolean };

const KEYS = ["/a", "/a/", "/a/k", "/a/b", "/a/b/x", "/a/b/x/1", "/a/b/y", "/a/b/z", "/ab", "/a//k", "/c", "/c/d", "/c/d/e", "/cd", "/z"];
const key = fc.constantFrom(...KEYS);
const value = fc.constantFrom("", "1", "2", "v", "é");
const write: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant("put" as const), key, value }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("delete" as const), key }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("txn" as const), puts: fc.uniqueArray(fc.tuple(key, value), { selector: ([k]) => k, maxLength: 4 }), deletes: fc.uniqueArray(key, { maxLength: 2 }) }),
  },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: write },
  { weight: 1, arbitrary: fc.constant({ op: "compact" as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("partition" as const), during: fc.array(write, { minLength: 1, maxLength: 5 }), compact: fc.boolean() }) },
);
/** Every run has at least one partition during which etcd compacts past the stream's revision. */
const scenario = fc.tuple(fc.array(op, { maxLength: 6 }), fc.array(write, { minLength: 1, maxLength: 4 }), fc.array(op, { maxLength: 6 }));

async function perform(client: Etcd3, root: string, o: Op): Promise<void> {
  switch (o.op) {
    case "put":
      await client.put(root + o.key).value(o.value);
      break;
    case "delete":
      await client.delete().key(root + o.key);
      break;
    case "txn": {
      const deletes = o.deletes.filter((d) => !o.puts.some(([k]) => k === d));
      await client.kv.txn({
        compare: [],
        success: [
          ...o.puts.map(([k, v]) => ({ request_put: { key: Buffer.from(root + k), value: Buffer.from(v) } })),
          ...deletes.map((k) => ({ request_delete_range: { key: Buffer.from(root + k) } })),
        ],
        failure: [],
      });
      break;
    }
    case "compact": {
      const revision = (await client.maintenance.status()).header.revision;
      // Nothing new since the last compaction: etcd refuses to compact the same revision twice.
      await client.kv.compact({ revision, physical: true }).catch((err: Error) => {
        if (!err.message.includes("required revision has been compacted")) throw err;
      });
      break;
    }
    case "partition":
      proxy.cut();
      try {
        for (const inner of o.during) await perform(client, root, inner);
        if (o.compact) await perform(client, root, { op: "compact" });
        // Long enough for the store to notice and start reconnecting against a closed port.
        await new Promise((r) => setTimeout(r, 150));
      } finally {
        await proxy.restore();
      }
      break;
  }
}

/** Full keys and every view, as plain data. */
function state(mirror: Mirror, sel: KeySelection[]): unknown {
  return {
    keys: [...mirror.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    views: Object.fromEntries(sel.map((s) => [s.name, mirror.view(s.name).entries()])),
  };
}

describe("the mirror follows a real etcd through compactions and disconnects", () => {
  it("ends equal to a fresh listing after any sequence (5 runs)", async () => {
    let run = 0;
    let compactionsSeen = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async ([before, partitioned, after]) => {
        const root = `/mirror-property/${++run}`;
        const sel = selections(root);
        const client = etcd.client();
        const store = await createEtcdStore({ endpoints: [`http://${proxy.address}`] });
        const follower = new Follower(store, sel);
        try {
          await follower.start();
          const ops: Op[] = [...before, { op: "partition", during: partitioned, compact: true }, ...after];
          for (const o of ops) {
            await perform(client, root, o);
            // Let some changes arrive one by one and others in batches.
            if (Math.random() < 0.5) await new Promise((r) => setTimeout(r, 5));
          }
          const fresh = (): Promise<unknown> =>
            direct.list(follower.mirror.watchPrefixes()).then((snapshot) => {
              const m = new Mirror(sel);
              m.replace(snapshot.kvs, snapshot.revision);
              return state(m, sel);
            });
          const expected = await fresh();
          // Converges: the stream reconnects (its backoff is at most 5 s) and catches up.
          await waitFor("the mirror to equal a fresh listing", async () => (JSON.stringify(state(follower.mirror, sel)) === JSON.stringify(expected) ? true : undefined), 30_000, 50).catch(() => undefined);
          expect(state(follower.mirror, sel)).toEqual(expected);
          compactionsSeen += follower.compactions;
        } finally {
          await follower.stop();
          await store.close();
        }
      }),
      { numRuns: 5, endOnFailure: true },
    );
    // The partitions did make the stream resume from a compacted revision, at least once.
    expect(compactionsSeen).toBeGreaterThanOrEqual(1);
  }, 240_000);
});
