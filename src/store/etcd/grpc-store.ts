/**
 * The etcd v3 store of `perch watch`, through etcd3's gRPC client: a paged listing and a change
 * stream, on one endpoint at a time. Imported only when an etcd store that watches is opened (or a
 * one-shot listing falls back to it): etcd3 (gRPC, protobuf) takes a noticeable time to load.
 */
import type { ChangeStream, Snapshot, Store, StreamSignal } from "../types.js";
import { connect, type ConnectOptions } from "./connect.js";
import type { EtcdClients } from "./failover.js";
import { disjointPrefixes, LIST_PAGE_SIZE } from "./listing.js";
import { listPaged } from "./paged-list.js";
import { EtcdChangeStream } from "./watch-stream.js";

export interface EtcdStoreOptions extends ConnectOptions {
  /** Keys per range request when listing (default LIST_PAGE_SIZE, 5000). */
  pageSize?: number;
}

export async function createEtcdStore(options: EtcdStoreOptions): Promise<Store> {
  return new EtcdStore(await connect(options), options.pageSize ?? LIST_PAGE_SIZE);
}

class EtcdStore implements Store {
  readonly kind = "etcd";
  private readonly streams = new Set<EtcdChangeStream>();

  constructor(
    private readonly clients: EtcdClients,
    private readonly pageSize: number,
  ) {}

  list(prefixes: readonly string[]): Promise<Snapshot> {
    return listPaged(this.clients, prefixes, this.pageSize);
  }

  async watch(prefixes: readonly string[], afterRevision: number, onSignal: (signal: StreamSignal) => void): Promise<ChangeStream> {
    const stream = new EtcdChangeStream(this.clients, disjointPrefixes(prefixes), afterRevision, onSignal, () => this.streams.delete(stream));
    this.streams.add(stream);
    stream.start();
    return stream;
  }

  async close(): Promise<void> {
    await Promise.all([...this.streams].map((s) => s.close()));
    this.clients.dropClients();
  }
}
