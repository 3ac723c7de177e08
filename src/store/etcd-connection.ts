/** Where and as whom to reach etcd: what the settings collect and the etcd store takes. */
export interface EtcdConnection {
  /** `http(s)://host:port`; several for a cluster (requests fail over between them). */
  endpoints: string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
}

/**
 * Keys per range request, for both ways of listing (the etcd3 client and the one-shot lister). etcd 3.4's cost
 * per page grows with what is left of the range, so fewer, larger pages list faster; larger still
 * would raise the daemon's memory high-water mark (measured over gRPC: 1,000 keys a page lists
 * 100,000 keys in ~2 s, 5,000 in ~1 s at ~180 MB RSS, 10,000 in ~0.9 s at ~213 MB).
 */
export const LIST_PAGE_SIZE = 5_000;
